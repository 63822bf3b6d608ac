// The content store of one data root: committed blobs by digest, ingests of new ones, single-flight downloads and
// the leases that keep content alive. Opening it takes the data root's lock.
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { KeyedMutex } from '../../protocol/keyed-mutex.ts';
import { newHash, parseDigest } from './digest.ts';
import { BlobNotFoundError, BlobTooLargeError, CorruptContentError, StoreError } from './errors.ts';
import { BlobFetcher, type FetchBlobOptions, type FetchResult, type OpenBlob } from './fetch-blob.ts';
import { type ExpectedBlob, Ingest } from './ingest.ts';
import { DataRootLayout } from './layout.ts';
import { LeaseManager } from './lease.ts';
import { type DataRootLock, lockDataRoot } from './lock.ts';

/** Manifests and configs are read whole; registries cap manifests at 4 MiB too. */
export const SMALL_BLOB_LIMIT = 4 * 1024 * 1024;

class StoreClosedError extends StoreError {
  override readonly name = 'StoreClosedError';
  constructor(root: string) {
    super(`the content store of ${root} is closed`);
  }
}

export class ContentStore {
  readonly layout: DataRootLayout;
  readonly leases = new LeaseManager();
  readonly #lock: DataRootLock;
  // One ingest per digest at a time; the garbage collector deletes a blob only while holding its digest here.
  readonly #digestLocks = new KeyedMutex();
  readonly #fetcher: BlobFetcher;
  #closed = false;

  private constructor(layout: DataRootLayout, lock: DataRootLock) {
    this.layout = layout;
    this.#fetcher = new BlobFetcher((expected, signal) => this.ingest(expected, { signal }), layout);
    this.#lock = lock;
  }

  /** Takes `<dataRoot>/dockhand.lock` (DataRootLockedError if a live daemon holds it) and creates the layout. */
  static async open(dataRoot: string): Promise<ContentStore> {
    const layout = new DataRootLayout(dataRoot);
    await layout.createRoot();
    const lock = await lockDataRoot(layout.root);
    try {
      await layout.ensure();
    } catch (error) {
      await lock.release();
      throw error;
    }
    return new ContentStore(layout, lock);
  }

  get root(): string {
    return this.layout.root;
  }

  /** Releases the data root lock. Callers cancel their pulls first; their partials stay for a resume. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#lock.release();
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return this.layout.blobPath(algorithm, hex);
  }

  async has(digest: string): Promise<boolean> {
    return (await this.#stat(digest)) !== undefined;
  }

  /** The committed blob's size in bytes; BlobNotFoundError if it is not committed. */
  async size(digest: string): Promise<number> {
    const size = await this.#stat(digest);
    if (size === undefined) throw new BlobNotFoundError(parseDigest(digest).value);
    return size;
  }

  /** A stream of the committed blob from byte `start` (default 0). */
  async openRead(digest: string, options: { start?: number } = {}): Promise<Readable> {
    const handle = await this.#openBlob(digest);
    return handle.createReadStream({ start: options.start ?? 0 });
  }

  /** The whole blob, re-verified against its digest; for manifests and configs only (BlobTooLargeError above the cap). */
  async readBytes(digest: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
    const { algorithm, value } = parseDigest(digest);
    const limit = options.maxBytes ?? SMALL_BLOB_LIMIT;
    const handle = await this.#openBlob(value);
    let bytes: Buffer;
    try {
      const { size } = await handle.stat();
      if (size > limit) throw new BlobTooLargeError(value, size, limit);
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
    const actual = `${algorithm}:${newHash(algorithm).update(bytes).digest('hex')}`;
    if (actual !== value) throw new CorruptContentError(value, `stored bytes hash to ${actual}`);
    return bytes;
  }

  /** A small blob parsed as JSON. The result is untrusted in shape: `T` is the caller's claim, parse it at the edge. */
  async readJson<T = unknown>(digest: string, options: { maxBytes?: number } = {}): Promise<T> {
    const bytes = await this.readBytes(digest, options);
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch (error) {
      throw new CorruptContentError(parseDigest(digest).value, `not JSON (${(error as Error).message})`);
    }
  }

  /** Stores a small blob held in memory (a manifest); DigestMismatchError if `bytes` does not hash to `digest`. */
  async putBytes(digest: string, bytes: Uint8Array): Promise<'exists' | 'written'> {
    const ingest = await this.ingest({ digest, size: bytes.byteLength });
    if (!ingest) return 'exists';
    try {
      if (ingest.offset > 0) await ingest.restart();
      await ingest.write(single(bytes));
      await ingest.commit();
    } finally {
      await ingest.close();
    }
    return 'written';
  }

  /**
   * An ingest of one blob (see ingest.ts), or undefined when it is already committed. The caller owns it: it must
   * end with commit(), discard() or close(), or the digest stays locked in this process.
   */
  async ingest(expected: ExpectedBlob, options: { signal?: AbortSignal } = {}): Promise<Ingest | undefined> {
    this.#assertOpen();
    return Ingest.open(this.layout, expected, this.#digestLocks, options.signal);
  }

  /**
   * Makes sure the blob is committed, downloading it through `open` if needed: once per digest across concurrent
   * callers, resuming any partial (see fetch-blob.ts for the result's fields).
   */
  fetchBlob(
    desc: { digest: string; size: number },
    open: OpenBlob,
    options?: FetchBlobOptions,
  ): Promise<FetchResult> {
    this.#assertOpen();
    return this.#fetcher.fetch(desc, open, options);
  }

  /** @internal for the garbage collector: the digest's lock if nobody holds it. */
  tryLockDigest(digest: string): (() => void) | undefined {
    return this.#digestLocks.tryAcquire(digest);
  }

  async #stat(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async #openBlob(digest: string) {
    try {
      return await open(this.blobPath(digest), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new BlobNotFoundError(parseDigest(digest).value);
      throw error;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError(this.layout.root);
  }
}

async function* single(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
