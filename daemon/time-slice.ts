// Loops whose length the user decides (every image of a list, every summary of its JSON) run in slices of bounded
// time, and one slice per turn of the event loop, whatever number of such loops run: a request that arrives waits
// for one slice at most, not for one slice of each list in progress, however many images there are.

/**
 * How long a slice runs. The loops of several requests take turns, so this bounds what a waiting request (GET /_ping)
 * sits behind.
 */
export const SLICE_MS = 1;

/** Loops waiting for their next slice, first come first served. */
const waiting: (() => void)[] = [];
let turnScheduled = false;

/** Runs the next waiting loop's slice; the one after it gets the next turn, after I/O has been polled again. */
function nextTurn(): void {
  const resume = waiting.shift();
  turnScheduled = waiting.length > 0;
  if (turnScheduled) setImmediate(nextTurn);
  resume?.();
}

export class TimeSlice {
  readonly #budgetMs: number;
  /** A loop waits for its turn before its first slice too: a request's first slice would otherwise go first. */
  #started = Number.NEGATIVE_INFINITY;

  constructor(budgetMs: number = SLICE_MS) {
    this.#budgetMs = budgetMs;
  }

  /** Whether this slice used its time: the caller then awaits `next()` before the next unit of work. */
  spent(): boolean {
    return performance.now() - this.#started >= this.#budgetMs;
  }

  /** Waits for this loop's next turn (other callbacks, I/O included, run meanwhile), then starts a new slice. */
  async next(): Promise<void> {
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!turnScheduled) {
        turnScheduled = true;
        setImmediate(nextTurn);
      }
    });
    this.#started = performance.now();
  }
}
