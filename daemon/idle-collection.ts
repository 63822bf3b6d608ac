// V8 collects garbage when its heap needs room, and an idle daemon allocates next to nothing: what a pull left behind
// (the read buffers its pool let go, its bodies' objects) stayed resident until V8's memory reducer came by, 20 s or
// more later. Measured on a 537 MB pull: 97 MiB idle 10 s after it, 83-88 MiB once a major collection had run. So
// once a long operation has ended and none ran for IDLE_MS, one major collection runs. It also compacts: the pull
// leaves old-space pages partly used, which a collection without compaction keeps whole (22.5 MB of old space
// committed for 14.2 MB live; 19.5 MB after compacting, seen with --trace-gc), and idle RSS 10 s after that pull was
// 72.2-75.2 MiB against 76.6-80.6 without (.bench/mem.sh, interleaved). The pause is longer, 48-62 ms against
// 12-19, once per idle spell.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Longer than the read-buffer pool and the hashing thread wait before letting go of their memory (2 s). */
export const IDLE_MS = 3000;

type Collector = (options: { type: 'major'; execution: 'async' }) => Promise<void>;

let collector: Collector | undefined;

/** One compacting major collection by V8's collector, as --expose-gc gives it to contexts created from then on. */
export async function majorCollection(): Promise<void> {
  if (collector === undefined) {
    setFlagsFromString('--expose-gc');
    collector = runInNewContext('gc') as Collector;
  }
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    await collector({ type: 'major', execution: 'async' });
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

export class IdleCollection {
  readonly #delayMs: number;
  readonly #collect: () => Promise<void>;
  #running = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(delayMs = IDLE_MS, collect = majorCollection) {
    this.#delayMs = delayMs;
    this.#collect = collect;
  }

  /** An operation began: nothing is collected while it runs. */
  began(): void {
    this.#running++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** An operation ended: once none ran for the delay, the garbage is collected. */
  ended(): void {
    this.#running--;
    clearTimeout(this.#timer);
    if (this.#running > 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#collect();
    }, this.#delayMs).unref();
  }
}
