// How busy a thread's event loop was over a window: the share of its time spent outside its poll. One home for the
// daemon's loop and the blob thread's, measured the same way. (The time a thread waits in the run queue is left out:
// on a loaded machine it made a blob thread that reads a few kilobytes every few milliseconds look busy, and no
// connection was ever added; since ranges are asked for a piece at a time, a wrong guess here costs no bytes.)
import type { EventLoopUtilization } from 'node:perf_hooks';

type Utilization = (since?: EventLoopUtilization) => EventLoopUtilization;

export class ThreadLoad {
  readonly #utilization: Utilization;
  #loop: EventLoopUtilization;

  /** @param utilization the loop's eventLoopUtilization (performance's, or a worker's) */
  constructor(utilization: Utilization) {
    this.#utilization = utilization;
    this.#loop = utilization();
  }

  /** Milliseconds since the window began. */
  get elapsed(): number {
    const since = this.#utilization(this.#loop);
    return since.idle + since.active;
  }

  /** The busy share (0-1) since the window began; a new window begins. */
  take(): number {
    const busy = this.#utilization(this.#loop).utilization;
    this.#loop = this.#utilization();
    return busy;
  }
}

/** The load of the daemon's own loop. */
export function mainThreadLoad(): ThreadLoad {
  return new ThreadLoad((since) => performance.eventLoopUtilization(since));
}
