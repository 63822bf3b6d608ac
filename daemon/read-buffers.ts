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

/** The loans of one shared memory's buffers, by slot (a slab holds many buffers of `size` bytes; a lone one, one). */
interface Lender {
  size: number;
  loans: Map<number, Loan>;
}

const lenders = new WeakMap<ArrayBufferLike, Lender>();
const IDLE_MS = 2000;

export class ReadBuffers {
  readonly #free: Buffer[] = [];
  readonly #size: number;
  readonly #maxFree: number;
  readonly #slabBuffers: number;
  /**
   * The buffers are cut from one slab of shared memory. A slab of 32 MiB or more is always its own mapping in glibc's
   * malloc, given back to the system whole once collected; buffers of 256 KiB allocated one by one came from the
   * heap once the first was freed (malloc's mmap threshold adapts upwards), and an idle daemon kept 5-10 MiB of that
   * heap after a pull. Only the slots read into are ever touched, so only they take memory.
   */
  #slab: SharedArrayBuffer | undefined;
  #carved = 0;
  #lastUse = 0;
  #idle: NodeJS.Timeout | undefined;

  /**
   * Buffers of `size` bytes, cut from slabs of `slabBuffers`; past those, lone buffers, of which at most `maxFree`
   * wait to be read into.
   */
  constructor(size: number, maxFree: number, slabBuffers = 1) {
    this.#size = size;
    this.#maxFree = maxFree;
    this.#slabBuffers = slabBuffers;
  }

  /** A buffer to read into: one given back, or a new one, in memory a hashing thread can read (blob-hash.ts). */
  take(): Buffer {
    this.#lastUse = performance.now();
    return this.#free.pop() ?? this.#carve() ?? Buffer.from(new SharedArrayBuffer(this.#size));
  }

  #carve(): Buffer | undefined {
    if (this.#slab === undefined) {
      this.#slab = new SharedArrayBuffer(this.#size * this.#slabBuffers);
      this.#carved = 0;
    }
    if (this.#carved === this.#slabBuffers) return undefined;
    return Buffer.from(this.#slab, this.#carved++ * this.#size, this.#size);
  }

  /** `views` non-empty chunks of `buffer` went out; the buffer is read into again once each came back. */
  lend(buffer: Buffer, views: number): void {
    if (views === 0) {
      this.put(buffer);
      return;
    }
    let lender = lenders.get(buffer.buffer);
    if (lender === undefined) {
      lender = { size: this.#size, loans: new Map() };
      lenders.set(buffer.buffer, lender);
    }
    lender.loans.set(Math.floor(buffer.byteOffset / this.#size), { pool: this, buffer, views });
  }

  put(buffer: Buffer): void {
    const slab = buffer.buffer;
    if (slab !== this.#slab) {
      // A slab let go of when the pool went idle goes with its last buffer out.
      if (buffer.byteLength !== slab.byteLength || this.#free.length >= this.#maxFree) return;
    }
    this.#free.push(buffer);
    this.#idle ??= setTimeout(this.#dropIfIdle, IDLE_MS).unref();
  }

  readonly #dropIfIdle = () => {
    const idleFor = performance.now() - this.#lastUse;
    this.#idle = idleFor >= IDLE_MS ? undefined : setTimeout(this.#dropIfIdle, IDLE_MS - idleFor).unref();
    if (this.#idle !== undefined) return;
    this.#free.length = 0;
    this.#slab = undefined;
  };
}

/** The size of a read, so of the largest chunk a blob body brings: streams along its way hold two. */
export const READ_BUFFER_BYTES = 256 * 1024;

/** The network's buffers: a slab of 128 (32 MiB), more than 8 connections' reads in flight. */
export const readBuffers = new ReadBuffers(READ_BUFFER_BYTES, 32, 128);

/** One more reader of `chunk` (besides the one it was handed to), who must give it back too. */
export function borrow(chunk: Uint8Array): void {
  const lender = lenders.get(chunk.buffer);
  if (lender === undefined || chunk.byteLength === 0) return;
  const loan = lender.loans.get(Math.floor(chunk.byteOffset / lender.size));
  if (loan !== undefined) loan.views++;
}

/** The bytes of `chunk` are written (and hashed): the buffer under it may be read into again. */
export function giveBack(chunk: Uint8Array): void {
  const lender = lenders.get(chunk.buffer);
  // An empty chunk cannot tell which buffer of a slab it came from (it may sit where the next one begins): its loan
  // never settles, and the buffer's memory goes with its slab.
  if (lender === undefined || chunk.byteLength === 0) return;
  const slot = Math.floor(chunk.byteOffset / lender.size);
  const loan = lender.loans.get(slot);
  if (loan === undefined || --loan.views > 0) return;
  lender.loans.delete(slot);
  loan.pool.put(loan.buffer);
}
