// Bytes on their way to a blob's file: written in batches behind the network, on the event loop that received them
// (the daemon's, or the blob thread's, which has the file's descriptor only).
import { giveBack } from '../read-buffers.ts';

/** What a batch is written to: a FileHandle, or the blob thread's view of the same descriptor. */
export interface BlobFile {
  writev(chunks: Uint8Array[]): Promise<{ bytesWritten: number }>;
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
}

/**
 * Writes chunks in batches of at least BATCH_BYTES with one batch on its way to disk while the next one fills, so
 * the network and the disk work at the same time; the batch that filled meanwhile is written as soon as the one in
 * flight is, and the caller holds back only when WAITING_BYTES more wait. A failed write leaves the file with part of
 * a batch: the hash no longer matches it, so the ingest must be closed and a later open re-hashes the file.
 */
export class WriteBehind {
  // Small, so that chunks the network did not read into its reused buffers (undici's, 64 KiB each, outside V8's
  // heap) leave the queue before two young-generation collections promote them: promoted, they wait for a full
  // collection, and the process's malloc heap grows with them (116-120 MiB of RSS with 1 MiB batches, 96-99 MiB with
  // 128 KiB, for the same CPU).
  static readonly BATCH_BYTES = 128 << 10;
  // Two of the network's largest chunks: with one, every chunk that came during a write held the stream back
  // (1,994 pauses for 2,100 chunks of a 537 MB pull).
  static readonly WAITING_BYTES = 512 << 10;
  // The commit fsyncs the blob; left to then, 128 MiB of a large blob reached the disk after its last byte came
  // (0.3 s for three such blobs here). Written back as they come, they reach it while the network still runs.
  static readonly WRITEBACK_BYTES = 16 << 20;
  readonly #handle: BlobFile;
  readonly #onWritten: (bytes: number) => void;
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #inFlight: Promise<void> | undefined;
  #inFlightBytes = 0;
  #unsynced = 0;
  #writeback: Promise<void> | undefined;
  written = 0;
  failed = false;

  constructor(handle: BlobFile, onWritten: (bytes: number) => void) {
    this.#handle = handle;
    this.#onWritten = onWritten;
  }

  /** Bytes accepted but not yet written. */
  get pending(): number {
    return this.#batchBytes + this.#inFlightBytes;
  }

  /**
   * Queues a chunk. Returns false when WAITING_BYTES wait behind the batch in flight: the caller must stop adding
   * and await next().
   */
  add(chunk: Uint8Array): boolean {
    this.#batch.push(chunk);
    this.#batchBytes += chunk.byteLength;
    if (this.#batchBytes >= WriteBehind.BATCH_BYTES && !this.#inFlight) this.#startBatch();
    return this.#batchBytes < WriteBehind.WAITING_BYTES;
  }

  /** Waits until the batch in flight is written (the waiting one then goes; a writeback under way is not waited for). */
  async next(): Promise<void> {
    if (this.#inFlight) await this.#inFlight;
  }

  /** Writes everything accepted so far, and waits for the writeback under way. */
  async flush(): Promise<void> {
    while (this.#inFlight || this.#batchBytes > 0) {
      if (this.#inFlight) await this.#inFlight;
      else this.#startBatch();
    }
    if (this.#writeback) await this.#writeback;
  }

  #startBatch(): void {
    if (this.#batchBytes === 0) return;
    const batch = this.#batch;
    const bytes = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#inFlightBytes = bytes;
    this.#inFlight = writeAll(this.#handle, batch, bytes).then(
      () => {
        for (const chunk of batch) giveBack(chunk);
        this.#inFlight = undefined;
        this.#inFlightBytes = 0;
        this.written += bytes;
        this.#unsynced += bytes;
        if (this.#unsynced >= WriteBehind.WRITEBACK_BYTES && !this.#writeback) this.#startWriteback();
        this.#onWritten(bytes);
        if (this.#batchBytes >= WriteBehind.BATCH_BYTES) this.#startBatch();
      },
      (error: unknown) => {
        this.failed = true;
        throw error;
      },
    );
    // Awaited by the next next() or flush(); until then the failure must not count as an unhandled rejection.
    this.#inFlight.catch(() => {});
  }

  /**
   * Starts writing the file's dirty pages back while the writes go on. A failure fails the ingest: Linux reports a
   * lost write back once, so the commit's own fsync could pass over it.
   */
  #startWriteback(): void {
    this.#unsynced = 0;
    this.#writeback = this.#handle.datasync().then(
      () => {
        this.#writeback = undefined;
      },
      (error: unknown) => {
        this.failed = true;
        throw error;
      },
    );
    this.#writeback.catch(() => {});
  }
}

export async function writeAll(handle: BlobFile, chunks: Uint8Array[], bytes: number): Promise<void> {
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
