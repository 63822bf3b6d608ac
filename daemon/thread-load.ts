// How busy a thread was over a window: the share of time its event loop spent outside its poll, or, where Linux tells
// it (/proc schedstat), the share the thread ran or waited in the run queue for a core, whichever is larger. The first
// alone misses a thread that other processes keep off the cores: woken for a socket's bytes, it waits to run while its
// loop still counts as idle. So it did on a loaded machine, where the blob thread's loop looked 60% idle while the
// registry's bytes piled up in its socket buffers, and a range split through them threw away 4.4 MB.
import { readFileSync, readlinkSync } from 'node:fs';
import type { EventLoopUtilization } from 'node:perf_hooks';

type Utilization = (since?: EventLoopUtilization) => EventLoopUtilization;

/** The thread's run and run-queue time so far, in ns; undefined where /proc does not say. */
function demandNs(path: string | undefined): number | undefined {
  if (path === undefined) return undefined;
  try {
    const [run, wait] = readFileSync(path, 'latin1').split(' ');
    const ns = Number(run) + Number(wait);
    return Number.isFinite(ns) ? ns : undefined;
  } catch {
    return undefined;
  }
}

export class ThreadLoad {
  readonly #utilization: Utilization;
  readonly #schedstat: string | undefined;
  #loop: EventLoopUtilization;
  #demand: { at: number; ns: number | undefined };

  /**
   * @param utilization the loop's eventLoopUtilization (performance's, or a worker's)
   * @param tid the thread's id in the kernel; undefined where unknown
   */
  constructor(utilization: Utilization, tid: number | undefined) {
    this.#utilization = utilization;
    this.#schedstat = tid === undefined ? undefined : `/proc/self/task/${tid}/schedstat`;
    this.#loop = utilization();
    this.#demand = { at: performance.now(), ns: demandNs(this.#schedstat) };
  }

  /** Milliseconds since the window began. */
  get elapsed(): number {
    const since = this.#utilization(this.#loop);
    return since.idle + since.active;
  }

  /** The busy share (0-1) since the window began; a new window begins. */
  take(): number {
    const loop = this.#utilization(this.#loop).utilization;
    this.#loop = this.#utilization();
    const before = this.#demand;
    this.#demand = { at: performance.now(), ns: demandNs(this.#schedstat) };
    const wall = this.#demand.at - before.at;
    if (before.ns === undefined || this.#demand.ns === undefined || wall <= 0) return loop;
    return Math.max(loop, (this.#demand.ns - before.ns) / 1e6 / wall);
  }
}

/**
 * The load of the daemon's own loop, by its utilization alone: it reads no range's body in a pull (those sink on the
 * blob thread), so the time it waits for a core does not pile bytes up in a range's socket buffers.
 */
export function mainThreadLoad(): ThreadLoad {
  return new ThreadLoad((since) => performance.eventLoopUtilization(since), undefined);
}

/** This thread's id in the kernel (Linux: /proc/thread-self links to <pid>/task/<tid>); undefined elsewhere. */
export function kernelThreadId(): number | undefined {
  try {
    const tid = Number(/\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    return Number.isInteger(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}
