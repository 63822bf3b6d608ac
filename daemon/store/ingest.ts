// One blob on its way into the store, as containerd's content writer: bytes stream into `oci/ingest/<hex>.partial`
// while they are hashed; `commit` renames the file into `blobs/<alg>/<hex>` only once size and digest match.
// A partial left by an earlier run is resumed: its bytes are re-hashed from disk, then new bytes are appended.
// Hashing runs on the digest thread (digest-thread.ts), over the same batches the disk writes.
import { type FileHandle, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { syncDirectory } from '../../protocol/atomic-file.ts';
import type { KeyedMutex } from '../../protocol/keyed-mutex.ts';
import { type ParsedDigest, parseDigest, parseSize } from './digest.ts';
import { DigestStream, DigestThreadError } from './digest-thread.ts';
import {
  DigestMismatchError,
  DiskWriteError,
  IncompleteBlobError,
  InvalidArgumentError,
  SizeMismatchError,
  StoreError,
} from './errors.ts';
import type { DataRootLayout } from './layout.ts';

export interface ExpectedBlob {
  digest: string;
  size: number;
}

export interface IngestWriteOptions {
  signal?: AbortSignal;
  /** Bytes in the partial so far (resumed bytes included), after each chunk. */
  onProgress?: (bytesSoFar: number) => void;
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
  readonly #digest: DigestStream;
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
    this.#digest = new DigestStream(parsed.algorithm);
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
   * Appends `source` to the partial in batches behind the network, each batch hashed while it is written.
   * Returns the bytes this call wrote. More bytes than `size`, or complete bytes that hash wrongly, delete
   * the partial, close the ingest and throw SizeMismatchError / DigestMismatchError. A source error or an abort keeps
   * the partial for a resume and leaves the ingest open.
   */
  async write(source: ByteSource, options: IngestWriteOptions = {}): Promise<number> {
    this.#assertOpen();
    if (this.#writing) throw new Error(`the ingest of ${this.digest} is already being written`);
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    this.#writing = true;
    try {
      return await this.#write(source, signal, onProgress);
    } finally {
      this.#writing = false;
    }
  }

  async #write(
    source: ByteSource,
    signal: AbortSignal | undefined,
    onProgress: ((bytesSoFar: number) => void) | undefined,
  ): Promise<number> {
    const stream =
      source instanceof Readable ? source : Readable.from(source, { objectMode: true, highWaterMark: 1 });
    // The stream can fail while no one else listens: before #consume starts (an aborted request errors its body at
    // once) and after it ends. Without a listener that 'error' would be an uncaught exception; #consume still sees
    // the failure, as an event or as `errored`.
    stream.on('error', () => {});
    const handle = await open(this.#partial, 'a');
    const disk = new WriteBehind(handle, this.#digest, (bytes) => {
      this.#offset += bytes;
      onProgress?.(this.#offset);
    });
    let ended = false;
    try {
      await this.#consume(stream, disk, signal);
      ended = true;
      await disk.flush();
      disk.release();
    } catch (error) {
      // Whatever was received must be on disk and hashed before the ingest can be resumed or retried in this process.
      if (!disk.failed) await disk.flush().catch(() => {});
      if (error instanceof SizeMismatchError) await this.#fail(error);
      throw disk.failed && !(error instanceof DigestThreadError)
        ? DiskWriteError.from(error, this.#partial)
        : error;
    } finally {
      if (disk.failed) this.#close();
      await handle.close();
      if (!ended) stream.destroy();
    }
    if (this.#offset === this.size) await this.#verify();
    return disk.written;
  }

  /**
   * Queues the stream's chunks as 'data' events deliver them, pausing the stream while the disk catches up. Events
   * rather than an async iterator: the iterator's promise per chunk cost ~0.5 s of CPU per GiB.
   */
  #consume(stream: Readable, disk: WriteBehind, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
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
        if (disk.add(chunk)) return;
        stream.pause();
        disk.next().then(() => {
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
    await this.#digest.restart();
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
    // The old bytes go through the hash on the digest thread: a resume costs a read of the partial, never its size
    // in memory.
    await this.#digest.restart(length > 0 ? { path: this.#partial, length } : undefined);
    signal?.throwIfAborted();
    this.#offset = length;
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
    return `${this.#parsed.algorithm}:${await this.#digest.digest()}`;
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
    this.#digest.end();
    release?.();
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new InvalidArgumentError('source', `yielded ${typeof value} instead of bytes`);
}

/**
 * Writes chunks in batches of BATCH_BYTES with one batch on its way to disk (and through the digest thread's hash)
 * while the next one fills, so the network, the disk and the hash work at the same time; a full batch waits for the
 * one in flight. Chunks are copied into two shared-memory batch buffers that take turns: the network's chunks die
 * young instead of living in a queue until the disk is free, and the digest thread reads the batch without a copy.
 * A failed write leaves the file with part of a batch: the hash no longer matches it, so the ingest must be closed
 * and a later open re-hashes the file.
 */
const BATCH_BYTES = 1 << 20;
/**
 * Batch buffers are shared memory, freed only once both threads have collected their handles: an ingest takes its
 * two from here and gives them back, and the next ingest reuses them.
 */
const batchBuffers: Buffer[] = [];
const KEPT_BATCH_BUFFERS = 8;

function takeBatchBuffer(): Buffer {
  return batchBuffers.pop() ?? Buffer.from(new SharedArrayBuffer(BATCH_BYTES));
}

function giveBatchBuffer(buffer: Buffer): void {
  if (batchBuffers.length < KEPT_BATCH_BUFFERS) batchBuffers.push(buffer);
}

class WriteBehind {
  readonly #handle: FileHandle;
  readonly #digest: DigestStream;
  readonly #onWritten: (bytes: number) => void;
  #filling: Buffer | undefined;
  #filled = 0;
  #spare: Buffer | undefined;
  /** The part of a chunk that did not fit while both buffers were taken. */
  #overflow: Uint8Array | undefined;
  #inFlight: Promise<void> | undefined;
  #inFlightBytes = 0;
  written = 0;
  failed = false;

  constructor(handle: FileHandle, digest: DigestStream, onWritten: (bytes: number) => void) {
    this.#handle = handle;
    this.#digest = digest;
    this.#onWritten = onWritten;
  }

  /** Bytes accepted but not yet written. */
  get pending(): number {
    return this.#filled + this.#inFlightBytes + (this.#overflow?.byteLength ?? 0);
  }

  /**
   * Copies a chunk in. Returns false when the batch is full and another one is still on its way to disk: the caller
   * must stop adding and await next(), which writes the full batch once the disk is free.
   */
  add(chunk: Uint8Array): boolean {
    let rest = chunk;
    while (rest.byteLength > 0) {
      this.#filling ??= this.#spare ?? takeBatchBuffer();
      if (this.#filling === this.#spare) this.#spare = undefined;
      const room = BATCH_BYTES - this.#filled;
      const taken = rest.byteLength <= room ? rest : rest.subarray(0, room);
      this.#filling.set(taken, this.#filled);
      this.#filled += taken.byteLength;
      rest = rest.subarray(taken.byteLength);
      if (this.#filled < BATCH_BYTES) return true;
      if (this.#inFlight) {
        if (rest.byteLength > 0) this.#overflow = rest;
        return false;
      }
      this.#startBatch();
    }
    return true;
  }

  async next(): Promise<void> {
    await this.settle();
    this.#startBatch();
    const overflow = this.#overflow;
    this.#overflow = undefined;
    if (overflow && !this.add(overflow)) await this.next();
  }

  /** Writes everything accepted so far. */
  async flush(): Promise<void> {
    await this.next();
    await this.settle();
    this.#startBatch();
    await this.settle();
  }

  /**
   * Gives the batch buffers back for the next ingest, once everything was written: after a failure a wait for the
   * disk may still be under way, and its buffers are left to the garbage collector.
   */
  release(): void {
    for (const buffer of [this.#filling, this.#spare]) if (buffer) giveBatchBuffer(buffer);
    this.#filling = undefined;
    this.#spare = undefined;
    this.#filled = 0;
  }

  /** Waits for the batch in flight. */
  async settle(): Promise<void> {
    if (this.#inFlight) await this.#inFlight;
  }

  #startBatch(): void {
    const buffer = this.#filling;
    const bytes = this.#filled;
    if (buffer === undefined || bytes === 0) return;
    this.#filling = undefined;
    this.#filled = 0;
    this.#inFlightBytes = bytes;
    this.#inFlight = Promise.all([
      writeAll(this.#handle, [buffer.subarray(0, bytes)], bytes),
      this.#digest.update(buffer.buffer as SharedArrayBuffer, bytes),
    ]).then(
      () => {
        this.#inFlight = undefined;
        this.#inFlightBytes = 0;
        this.#spare = buffer;
        this.written += bytes;
        this.#onWritten(bytes);
      },
      (error: unknown) => {
        this.failed = true;
        throw error;
      },
    );
    // Awaited by the next settle(); until then the failure must not count as an unhandled rejection.
    this.#inFlight.catch(() => {});
  }
}

export async function writeAll(handle: FileHandle, chunks: Uint8Array[], bytes: number): Promise<void> {
  const { bytesWritten } = await handle.writev(chunks);
  if (bytesWritten === bytes) return;
  // A short writev: write the rest from where it stopped.
  let skip = bytesWritten;
  for (const chunk of chunks) {
    if (skip >= chunk.byteLength) {
      skip -= chunk.byteLength;
      continue;
    }
    for (let done = skip; done < chunk.byteLength; ) {
      done += (await handle.write(chunk, done, chunk.byteLength - done)).bytesWritten;
    }
    skip = 0;
  }
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
