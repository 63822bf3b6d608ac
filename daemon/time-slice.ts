// Loops whose length the user decides (every image of a list, every summary of its JSON) run in slices of bounded
// time: between two slices the event loop serves what else is waiting, GET /_ping included, so a request holds it
// for a time that does not grow with the number of images.
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * How long a slice runs. A few lists run at once and a waiting request may sit behind one slice of each, so a slice
 * is kept well under the latency a client should see.
 */
export const SLICE_MS = 1;

export class TimeSlice {
  readonly #budgetMs: number;
  #started = performance.now();

  constructor(budgetMs: number = SLICE_MS) {
    this.#budgetMs = budgetMs;
  }

  /** Whether this slice used its time: the caller then awaits `next()` before the next unit of work. */
  spent(): boolean {
    return performance.now() - this.#started >= this.#budgetMs;
  }

  /** Lets every callback already waiting (I/O included) run, then starts a new slice. */
  async next(): Promise<void> {
    await nextTurn();
    this.#started = performance.now();
  }
}
