// The buffers a blob body is read into, one pool for the process. Reading into fresh memory costs a page fault per
// 4 KiB: a 537 MB pull spent 0.4-0.6 s of system time on them, as much as hashing it. The store gives each chunk
// back once its bytes are on disk (and hashed), and its buffer is read into again, by any connection. Buffers
// left unused for IDLE_MS are dropped, so an idle daemon holds none. A chunk nobody gives back (an error body, a
// stream that concatenated its chunks) is collected as any other buffer: giving back is an optimisation, never
// needed for correctness, and a chunk given back is never touched again by whoever gave it.

interface Loan {
  pool: ReadBuffers;
  buffer: Buffer;
  /** Chunks of the buffer still out. */
  views: number;
}

const loans = new WeakMap<ArrayBufferLike, Loan>();
const IDLE_MS = 2000;

export class ReadBuffers {
  readonly #free: Buffer[] = [];
  readonly #size: number;
  readonly #maxFree: number;
  #lastUse = 0;
  #idle: NodeJS.Timeout | undefined;

  /** Buffers of `size` bytes; at most `maxFree` wait to be read into, more given back are dropped. */
  constructor(size: number, maxFree: number) {
    this.#size = size;
    this.#maxFree = maxFree;
  }

  /** A buffer to read into: one given back, or a new one, in memory a hashing thread can read (blob-hash.ts). */
  take(): Buffer {
    this.#lastUse = performance.now();
    return this.#free.pop() ?? Buffer.from(new SharedArrayBuffer(this.#size));
  }

  /** `views` chunks of `buffer` went out; the buffer is read into again once each came back. */
  lend(buffer: Buffer, views: number): void {
    if (views === 0) this.put(buffer);
    else loans.set(buffer.buffer, { pool: this, buffer, views });
  }

  put(buffer: Buffer): void {
    if (this.#free.length >= this.#maxFree) return;
    this.#free.push(buffer);
    this.#idle ??= setTimeout(this.#dropIfIdle, IDLE_MS).unref();
  }

  readonly #dropIfIdle = () => {
    const idleFor = performance.now() - this.#lastUse;
    this.#idle = idleFor >= IDLE_MS ? undefined : setTimeout(this.#dropIfIdle, IDLE_MS - idleFor).unref();
    if (this.#idle === undefined) this.#free.length = 0;
  };
}

/** The size of a read, so of the largest chunk a blob body brings: streams along its way hold two. */
export const READ_BUFFER_BYTES = 256 * 1024;

/** The network's buffers, as many kept as the pulls in flight give back (32 cover 8 connections). */
export const readBuffers = new ReadBuffers(READ_BUFFER_BYTES, 32);

/** One more reader of `chunk` (besides the one it was handed to), who must give it back too. */
export function borrow(chunk: Uint8Array): void {
  const loan = loans.get(chunk.buffer);
  if (loan !== undefined) loan.views++;
}

/** The bytes of `chunk` are written (and hashed): the buffer under it may be read into again. */
export function giveBack(chunk: Uint8Array): void {
  const loan = loans.get(chunk.buffer);
  if (loan === undefined || --loan.views > 0) return;
  loans.delete(chunk.buffer);
  loan.pool.put(loan.buffer);
}
