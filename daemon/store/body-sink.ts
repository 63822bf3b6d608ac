// A body that can write itself into a blob's file where its bytes already are (the blob thread's bulk bodies), as
// Go's io.Copy lets a reader with WriteTo skip the copy through a buffer. Whoever writes a body into the store asks
// first; a body that cannot is read as a stream.
import { open } from 'node:fs/promises';
import type { BlobHash } from './blob-hash.ts';

export interface SinkTarget {
  /** The open file the bytes are appended to; the caller closes it once `sinkTo` settled. */
  fd: number;
  /** Hashes every byte before it is written (the partial's hash); none for a range's part file. */
  hash: BlobHash | undefined;
}

export interface SinkControl {
  /** Bytes wanted, fixed when the body starts to sink: a request's end does not move while its body streams. */
  room: number;
  /** Bytes now on disk, in order. */
  onBytes(bytes: number): void;
  /** Where room ends: true, the body is cut there (a range); false, it must end there (more is reported as `over`). */
  cut: boolean;
  /**
   * The body was kept paused on this side (for the disk) for `ms` since it last said: its connection's buffers filled
   * meanwhile (held-time.ts).
   */
  onHeldBack?: (ms: number) => void;
  signal: AbortSignal | undefined;
}

export interface SinkResult {
  /** The body ended where its framing said (fewer bytes than wanted is the caller's to judge). */
  ended: boolean;
  /** The body carried more bytes than room: they were not written. */
  over: boolean;
  /** The body's failure, the disk's, or the abort's reason; every byte reported was written first. */
  error: Error | undefined;
  diskFailed: boolean;
}

export interface SinkableBody {
  /** Whether the body can sink into a file hashed by `hash` (nobody read it yet, and the hash is where it is). */
  canSink(hash: BlobHash | undefined): boolean;
  sinkTo(target: SinkTarget, control: SinkControl): Promise<SinkResult>;
}

export function isSinkable(value: unknown): value is SinkableBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<SinkableBody>).canSink === 'function' &&
    typeof (value as Partial<SinkableBody>).sinkTo === 'function'
  );
}

/** Sinks `body` into the file at `path`, appended, hashed by `hash` first; the file is closed once it settled. */
export async function sinkIntoFile(
  body: SinkableBody,
  path: string,
  hash: BlobHash | undefined,
  control: SinkControl,
): Promise<SinkResult> {
  const handle = await open(path, 'a');
  try {
    return await body.sinkTo({ fd: handle.fd, hash }, control);
  } finally {
    await handle.close();
  }
}
