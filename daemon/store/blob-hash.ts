// The digest of a blob on its way into the store. Hashing a 537 MB pull is about 0.45 s of CPU, a third of what the
// event loop did for it: large blobs are hashed on a thread of their own, so the loop is free for the network and
// the API while the other core hashes. The bytes are not copied there: the network reads into shared memory
// (read-buffers.ts), and a chunk goes back to its pool once it is both written and hashed. Small blobs are hashed
// in place, where a message would cost more than the hash.
import type { Hash } from 'node:crypto';
import { type BlobThread, blobThread, type ThreadPeer } from '../blob-thread/blob-thread.ts';
import type { FromThread } from '../blob-thread/messages.ts';
import { borrow, giveBack, readBuffers } from '../read-buffers.ts';
import { type DigestAlgorithm, newHash } from './digest.ts';

/** Blobs from this size on are hashed on the hashing thread. */
export const THREADED_HASH_MIN_BYTES = 1024 * 1024;
/** Bytes the hashing thread may fall behind the network before the blob's stream is paused. */
const MAX_LAG_BYTES = 1024 * 1024;

export interface BlobHash {
  /** Takes the chunk's bytes in order; the caller may reuse an unshared chunk at once. */
  update(chunk: Uint8Array): void;
  /** The hash is far enough behind that more bytes should wait for `caughtUp`. */
  readonly behind: boolean;
  caughtUp(): Promise<void>;
  /** The hex digest of the bytes so far; more may follow. */
  digest(): Promise<string>;
  /** No more bytes: releases the hash's resources. */
  close(): void;
}

export function blobHash(algorithm: DigestAlgorithm, size: number): BlobHash {
  return size >= THREADED_HASH_MIN_BYTES
    ? new ThreadedHash(blobThread(), algorithm)
    : new LocalHash(newHash(algorithm));
}

class LocalHash implements BlobHash {
  readonly behind = false;
  readonly #hash: Hash;

  constructor(hash: Hash) {
    this.#hash = hash;
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }

  async caughtUp(): Promise<void> {}

  async digest(): Promise<string> {
    return this.#hash.copy().digest('hex');
  }

  close(): void {}
}

/** A hash on the blob thread: a blob body that thread writes (thread.ts) is hashed there too, under `id`. */
export class ThreadedHash implements BlobHash, ThreadPeer {
  readonly thread: BlobThread;
  readonly id: number;
  /** Chunks sent and not yet hashed, in order: the sequence number that acknowledges each, its length, and what
   * goes back once it is hashed (a borrowed chunk, or a staging buffer). */
  readonly #sent: { seq: number; bytes: number; borrowed?: Uint8Array; staging?: Buffer }[] = [];
  #seq = 0;
  #lag = 0;
  #waiters: (() => void)[] = [];
  #digests: { resolve: (hex: string) => void; reject: (error: unknown) => void }[] = [];
  #failure: unknown;
  #closed = false;

  constructor(thread: BlobThread, algorithm: DigestAlgorithm) {
    this.thread = thread;
    this.id = thread.join(this);
    thread.post({ op: 'open', id: this.id, algorithm });
  }

  get behind(): boolean {
    return this.#lag > MAX_LAG_BYTES;
  }

  update(chunk: Uint8Array): void {
    if (chunk.buffer instanceof SharedArrayBuffer) {
      // Read in place by the thread: the chunk's buffer is not read into again until the thread is through.
      borrow(chunk);
      this.#send(chunk, chunk);
      return;
    }
    // A chunk of a file or of another stream may be reused by its owner: the thread reads a copy, in shared memory
    // that comes back for the next copy (fresh buffers sent to the thread would wait there for its rare collections).
    for (let at = 0; at < chunk.byteLength; ) {
      const staging = readBuffers.take();
      const piece = chunk.subarray(at, at + staging.byteLength);
      at += piece.byteLength;
      staging.set(piece);
      this.#send(staging.subarray(0, piece.byteLength), undefined, staging);
    }
  }

  #send(view: Uint8Array, borrowed: Uint8Array | undefined, staging?: Buffer): void {
    const seq = ++this.#seq;
    const bytes = view.byteLength;
    this.#sent.push({ seq, bytes, borrowed, staging });
    this.#lag += bytes;
    this.thread.post({
      op: 'update',
      id: this.id,
      seq,
      buffer: view.buffer,
      offset: view.byteOffset,
      length: bytes,
    });
  }

  caughtUp(): Promise<void> {
    if (!this.behind || this.#failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  digest(): Promise<string> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#digests.push({ resolve, reject });
      this.thread.post({ op: 'digest', id: this.id });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.thread.post({ op: 'close', id: this.id });
    this.thread.leave(this.id);
  }

  answer(message: FromThread): void {
    if (message.op === 'digest') {
      this.#digests.shift()?.resolve(message.hex);
      return;
    }
    if (message.op === 'hashFailed') {
      this.#digests.shift()?.reject(new Error(message.error.message));
      return;
    }
    if (message.op !== 'hashed') return;
    for (let first = this.#sent[0]; first !== undefined && first.seq <= message.seq; first = this.#sent[0]) {
      this.#sent.shift();
      this.#lag -= first.bytes;
      if (first.borrowed) giveBack(first.borrowed);
      if (first.staging) readBuffers.put(first.staging);
    }
    if (!this.behind) this.#wake();
  }

  fail(error: unknown): void {
    this.#failure ??= error;
    for (const d of this.#digests.splice(0)) d.reject(error);
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
