// One blob on its way into the store, as containerd's content writer: bytes stream into `oci/ingest/<hex>.partial`
// while they are hashed; `commit` renames the file into `blobs/<alg>/<hex>` only once size and digest match.
// A partial left by an earlier run is resumed: its bytes are re-hashed from disk, then new bytes are appended.
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { syncDirectory } from '../../protocol/atomic-file.ts';
import type { KeyedMutex } from '../../protocol/keyed-mutex.ts';
import { HeldTime } from '../held-time.ts';
import { giveBack } from '../read-buffers.ts';
import { type BlobHash, blobHash } from './blob-hash.ts';
import { isSinkable, type SinkableBody, sinkIntoFile } from './body-sink.ts';
import { type ParsedDigest, parseDigest, parseSize } from './digest.ts';
import {
  DigestMismatchError,
  DiskWriteError,
  IncompleteBlobError,
  InvalidArgumentError,
  SizeMismatchError,
  StoreError,
} from './errors.ts';
import type { DataRootLayout } from './layout.ts';
import { readPooled } from './pooled-file-read.ts';
import { WriteBehind } from './write-behind.ts';

export interface ExpectedBlob {
  digest: string;
  size: number;
}

export interface IngestWriteOptions {
  signal?: AbortSignal;
  /** Bytes in the partial so far (resumed bytes included), after each chunk. */
  onProgress?: (bytesSoFar: number) => void;
  /** How long the source was kept paused here (for the disk or the hash) or on the blob thread, as it flows again. */
  onHeldBack?: (ms: number) => void;
}

export type ByteSource = AsyncIterable<Uint8Array> | Readable;

class IngestClosedError extends StoreError {
  override readonly name = 'IngestClosedError';
  constructor(digest: string) {
    super(`the ingest of ${digest} is closed`);
  }
}

export class Ingest {
  readonly digest: string;
  readonly size: number;
  readonly #layout: DataRootLayout;
  readonly #parsed: ParsedDigest;
  readonly #partial: string;
  #hash: BlobHash;
  #offset: number;
  #verified = false;
  #writing = false;
  #release: (() => void) | undefined;

  private constructor(layout: DataRootLayout, parsed: ParsedDigest, size: number, release: () => void) {
    this.#layout = layout;
    this.#parsed = parsed;
    this.digest = parsed.value;
    this.size = size;
    this.#partial = layout.partialPath(parsed.hex);
    this.#hash = blobHash(parsed.algorithm, size);
    this.#offset = 0;
    this.#release = release;
  }

  /**
   * Takes the in-process lock of the digest (waiting for another ingest of it to finish). Returns undefined when the
   * blob is already committed. Otherwise picks up any partial an earlier run left: a partial longer than the blob,
   * or complete but wrong, is deleted and the ingest starts at 0.
   */
  static async open(
    layout: DataRootLayout,
    expected: ExpectedBlob,
    locks: KeyedMutex,
    signal?: AbortSignal,
  ): Promise<Ingest | undefined> {
    const parsed = parseDigest(expected.digest, 'digest');
    const size = parseSize(expected.size, 'size');
    const release = await locks.acquire(parsed.value, signal);
    try {
      // Checked under the lock: the garbage collector deletes blobs under the same lock.
      if ((await fileSize(layout.blobPath(parsed.algorithm, parsed.hex))) !== undefined) {
        release();
        return undefined;
      }
    } catch (error) {
      release();
      throw error;
    }
    const ingest = new Ingest(layout, parsed, size, release);
    try {
      await ingest.#resume(signal);
    } catch (error) {
      ingest.#close();
      throw error;
    }
    return ingest;
  }

  /** Bytes already in the partial: the `Range` start for the next request. */
  get offset(): number {
    return this.#offset;
  }

  /** All bytes are present and hash to the digest: `commit` will succeed. */
  get complete(): boolean {
    return this.#verified;
  }

  get closed(): boolean {
    return this.#release === undefined;
  }

  /**
   * Appends `source` to the partial, hashing each chunk as it arrives and writing in batches behind the network.
   * Returns the bytes this call wrote. More bytes than `size`, or complete bytes that hash wrongly, delete
   * the partial, close the ingest and throw SizeMismatchError / DigestMismatchError. A source error or an abort keeps
   * the partial for a resume and leaves the ingest open.
   */
  async write(source: ByteSource, options: IngestWriteOptions = {}): Promise<number> {
    this.#assertOpen();
    if (this.#writing) throw new Error(`the ingest of ${this.digest} is already being written`);
    options.signal?.throwIfAborted();
    this.#writing = true;
    try {
      return await this.#write(source, options);
    } finally {
      this.#writing = false;
    }
  }

  async #write(source: ByteSource, options: IngestWriteOptions): Promise<number> {
    if (isSinkable(source) && source.canSink(this.#hash)) return this.#sink(source, options);
    const { onProgress } = options;
    const stream =
      source instanceof Readable ? source : Readable.from(source, { objectMode: true, highWaterMark: 1 });
    // The stream can fail while no one else listens: before #consume starts (an aborted request errors its body at
    // once) and after it ends. Without a listener that 'error' would be an uncaught exception; #consume still sees
    // the failure, as an event or as `errored`.
    stream.on('error', () => {});
    const handle = await open(this.#partial, 'a');
    const disk = new WriteBehind(handle, (bytes) => {
      this.#offset += bytes;
      onProgress?.(this.#offset);
    });
    let ended = false;
    try {
      await this.#consume(stream, disk, options);
      ended = true;
      await disk.flush();
    } catch (error) {
      // Whatever was hashed must be on disk before the ingest can be resumed or retried in this process.
      if (!disk.failed) await disk.flush().catch(() => {});
      if (error instanceof SizeMismatchError) await this.#fail(error);
      throw disk.failed ? DiskWriteError.from(error, this.#partial) : error;
    } finally {
      if (disk.failed) this.#close();
      await handle.close();
      if (!ended) stream.destroy();
    }
    if (this.#offset === this.size) await this.#verify();
    return disk.written;
  }

  /** A body that writes itself: on the blob thread, hashed there into this ingest's hash (body-sink.ts). */
  async #sink(body: SinkableBody, { signal, onProgress, onHeldBack }: IngestWriteOptions): Promise<number> {
    let written = 0;
    const result = await sinkIntoFile(body, this.#partial, this.#hash, {
      room: this.size - this.#offset,
      onBytes: (bytes) => {
        written += bytes;
        this.#offset += bytes;
        onProgress?.(this.#offset);
      },
      cut: false,
      onHeldBack,
      signal,
    });
    if (result.diskFailed) {
      this.#close();
      throw DiskWriteError.from(result.error, this.#partial);
    }
    if (result.over) await this.#fail(new SizeMismatchError(this.digest, this.size, this.size + 1));
    if (result.error) throw result.error;
    if (this.#offset === this.size) await this.#verify();
    return written;
  }

  /**
   * Hashes and queues the stream's chunks as 'data' events deliver them, pausing the stream while the disk catches
   * up. Events rather than an async iterator: the iterator's promise per chunk cost ~0.5 s of CPU per GiB.
   */
  #consume(stream: Readable, disk: WriteBehind, { signal, onHeldBack }: IngestWriteOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const held = new HeldTime();
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        stream.off('data', onData).off('end', onEnd).off('error', finish).off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
        stream.pause();
        if (error === undefined) resolve();
        else reject(error);
      };
      const onData = (value: unknown) => {
        let chunk: Uint8Array;
        try {
          chunk = toBytes(value);
        } catch (error) {
          finish(error);
          return;
        }
        const received = this.#offset + disk.pending + chunk.byteLength;
        if (received > this.size) {
          finish(new SizeMismatchError(this.digest, this.size, received));
          return;
        }
        this.#hash.update(chunk);
        const diskFull = !disk.add(chunk);
        if (!diskFull && !this.#hash.behind) return;
        stream.pause();
        held.hold();
        Promise.all([diskFull ? disk.next() : undefined, this.#hash.caughtUp()]).then(() => {
          held.release();
          onHeldBack?.(held.take());
          if (!settled) stream.resume();
        }, finish);
      };
      const onEnd = () => finish();
      const onClose = () => finish(new Error('the blob stream closed before its end'));
      const onAbort = () => finish(signal?.reason);
      if (signal?.aborted) {
        onAbort();
        return;
      }
      // Listeners attached to a stream that is already over would wait forever.
      if (stream.readableEnded) {
        finish();
        return;
      }
      if (stream.destroyed) {
        finish(stream.errored ?? new Error('the blob stream was destroyed before it was read'));
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('data', onData).once('end', onEnd).once('error', finish).once('close', onClose);
    });
  }

  /** Empties the partial: the server ignored the Range request and sends the blob from its first byte. */
  async restart(): Promise<void> {
    this.#assertOpen();
    const handle = await open(this.#partial, 'w');
    await handle.close();
    this.#hash.close();
    this.#hash = blobHash(this.#parsed.algorithm, this.size);
    this.#offset = 0;
    this.#verified = false;
  }

  /** fsyncs the verified partial, renames it to its blob name, fsyncs the folder, and releases the digest. */
  async commit(): Promise<void> {
    this.#assertOpen();
    if (!this.#verified) throw new IncompleteBlobError(this.digest, this.size, this.#offset);
    const handle = await open(this.#partial, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const dir = this.#layout.blobDir(this.#parsed.algorithm);
    await mkdir(dir, { recursive: true });
    await rename(this.#partial, this.#layout.blobPath(this.#parsed.algorithm, this.#parsed.hex));
    await syncDirectory(dir);
    this.#close();
  }

  /** Deletes the partial and releases the digest. */
  async discard(): Promise<void> {
    if (this.closed) return;
    await removeFile(this.#partial);
    this.#close();
  }

  /** Releases the digest and keeps the partial for a later resume (an empty one is removed). */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.#offset === 0 && this.size > 0) await removeFile(this.#partial);
    this.#close();
  }

  async #resume(signal: AbortSignal | undefined): Promise<void> {
    let length = await fileSize(this.#partial);
    if (length === undefined) {
      // An empty file gives commit something to rename when the blob itself is empty.
      await (await open(this.#partial, 'a')).close();
      length = 0;
    }
    if (length > this.size) {
      await this.restart();
      return;
    }
    if (length > 0) {
      // Streams the old bytes through the hash: a resume costs a read of the partial, never its size in memory.
      for await (const chunk of readPooled(this.#partial, 0, length, signal)) {
        this.#hash.update(chunk);
        giveBack(chunk);
        if (this.#hash.behind) await this.#hash.caughtUp();
      }
      this.#offset = length;
    }
    if (this.#offset === this.size) {
      const actual = await this.#actualDigest();
      if (actual === this.digest) {
        this.#verified = true;
      } else if (this.size === 0) {
        throw new DigestMismatchError(this.digest, actual);
      } else {
        await this.restart();
      }
    }
  }

  async #verify(): Promise<void> {
    const actual = await this.#actualDigest();
    if (actual !== this.digest) await this.#fail(new DigestMismatchError(this.digest, actual));
    this.#verified = true;
  }

  async #actualDigest(): Promise<string> {
    return `${this.#parsed.algorithm}:${await this.#hash.digest()}`;
  }

  async #fail(error: Error): Promise<never> {
    await removeFile(this.#partial);
    this.#close();
    throw error;
  }

  #assertOpen(): void {
    if (this.closed) throw new IngestClosedError(this.digest);
  }

  #close(): void {
    const release = this.#release;
    this.#release = undefined;
    this.#hash.close();
    release?.();
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new InvalidArgumentError('source', `yielded ${typeof value} instead of bytes`);
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
