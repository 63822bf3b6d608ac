// A stream's failure held back until its reader has every byte the stream holds. A blob's reader may attach after
// the connection failed (the store opens its file first); destroyed at once, the stream would drop the bytes that
// came before the reset, and the retry would fetch them again.
import type { Readable } from 'node:stream';

export class HeldFailure {
  readonly #stream: Readable;
  readonly #empty: () => boolean;
  #failure: Error | undefined;

  /** `empty`: the stream holds no byte its reader has not taken. */
  constructor(stream: Readable, empty: () => boolean) {
    this.#stream = stream;
    this.#empty = empty;
  }

  /** Destroys the stream with `error` now if it is empty, else once its reader emptied it. */
  fail(error: Error): void {
    if (this.#empty()) this.#stream.destroy(error);
    else this.#failure = error;
  }

  /** Called after each read() of the stream: every reader takes its bytes through it (iterators, pipe, flowing). */
  afterRead(): void {
    const failure = this.#failure;
    if (failure === undefined || !this.#empty()) return;
    this.#failure = undefined;
    process.nextTick(() => this.#stream.destroy(failure));
  }
}
