// Whether more connections pay is a question about every blob transfer in the process, not about one blob. When four
// layers download at once and the CPU or the link is the bottleneck, a fifth connection for one of them speeds that
// blob up by slowing the other three: seen from that blob alone, its connections kept their rate. So:
// - every transfer (a range's connection, or a plain blob download) is counted while it runs, and its bytes too;
// - rates are compared only over steady windows: every transfer streaming through it, none starting or ending;
// - no trial while the loop that reads the bodies is busy (the blob thread's, or the daemon's): then our own CPU is
//   the bottleneck, and the rates of consecutive windows differ too much (compilation, collections, the disk) for a
//   comparison to tell;
// - no connection is added while our side sets the pace: the thread that reads the bodies is busy (thread-load.ts),
//   or a transfer spent a good share of its time held back on our side (its reader waited for the disk or the hash;
//   held-time.ts);
// - one download at a time adds connections (a trial), and the others wait for its verdict;
// - the trial pays when the bytes per second of all transfers together rose by at least 30% of what each of the
//   trial's connections carried before it, for each connection it added (a new connection rarely runs at its full
//   rate in its first window), and by at least 15% of the whole (less is within the noise between two windows);
// - a trial that did not pay found a shared bottleneck at that many transfers: no download adds connections again
//   until fewer transfers run.
import { performance } from 'node:perf_hooks';
import { type BlobThread, runningBlobThread } from '../blob-thread/blob-thread.ts';
import { mainThreadLoad, type ThreadLoad } from '../thread-load.ts';

/** Share of a connection's earlier rate that each added connection must add to the whole. */
const GAIN_SHARE = 0.3;
/** Share of the whole's earlier rate below which a rise is noise. */
const NOISE_SHARE = 0.15;
/** A trial whose connections are not all streaming by then did not pay. */
const TRIAL_LIMIT_MS = 3000;
/** Steady windows a trial must fail in before it did not pay. */
const WINDOWS_TO_FAIL = 2;
/**
 * Above this share of busy time of the thread that reads the bodies (the blob thread; the daemon's main thread when a
 * body is read there; thread-load.ts), or of time the transfers were held back on our side, more connections cannot
 * help. Measured on the daemon's loop when it read them: one unthrottled stream from a loopback registry kept it
 * 71-89% busy; eight connections capped at 16 MB/s each, 18-50%.
 */
const BUSY_LOOP = 0.6;
/**
 * The share of time a transfer may be held back on our side before we count as setting the pace (as BUSY_LOOP):
 * whatever the registry sends meanwhile piles up in its socket buffers.
 */
const HELD_SHARE = 0.3;
/** The event loop's busy share is measured over windows of at least this length. */
const LOOP_WINDOW_MS = 200;

export interface GrowthTrial {
  /** Bytes per millisecond of all transfers in the window before the trial. */
  readonly before: number;
  /** Bytes per millisecond of each of the owner's connections in that window. */
  readonly perConnection: number;
  /** Connections the trial added. */
  readonly added: number;
  readonly startedAt: number;
  /** Transfers running before it added its connections. */
  readonly transfers: number;
  /** Steady windows in which it did not pay. */
  misses: number;
}

/** One transfer's share of the count: its bytes as they come, and its end. */
export interface Transfer {
  count(bytes: number): void;
  /** Its reader kept it paused on our side for `ms` (SinkControl.onHeldBack). */
  heldBack(ms: number): void;
  /** Idempotent. */
  close(): void;
}

export class ConnectionGrowth {
  #bytes = 0;
  #transfers = 0;
  /** When a transfer last began streaming or ended. */
  #changedAt = Number.NEGATIVE_INFINITY;
  #trial: GrowthTrial | undefined;
  /** Transfers at which a trial did not pay: none begins until fewer run. */
  #saturatedAt = Number.POSITIVE_INFINITY;
  #mainLoad: ThreadLoad = mainThreadLoad();
  #threadLoad: { thread: BlobThread; load: ThreadLoad } | undefined;
  #loopBusy = 1;
  /** Each running transfer's milliseconds held back since the last load sample. */
  readonly #held = new Set<{ ms: number }>();
  /** The largest share of the last load window a transfer was held back. */
  #heldShare = 0;

  /** Bytes received by all transfers so far; a window's rate is the difference between two readings. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Counts a running transfer until it is closed. */
  track(): Transfer {
    // The event loop's load is measured from when transfers run, not over the idle time before; until one window
    // has passed it is unknown, and counts as busy.
    if (this.#transfers === 0) {
      this.#mainLoad = mainThreadLoad();
      this.#threadLoad = undefined;
      this.#loopBusy = 1;
    }
    this.#transfers++;
    const held = { ms: 0 };
    this.#held.add(held);
    let streaming = false;
    let open = true;
    return {
      count: (bytes) => {
        if (!streaming) {
          streaming = true;
          this.#changedAt = performance.now();
        }
        this.#bytes += bytes;
      },
      heldBack: (ms) => {
        held.ms += ms;
      },
      close: () => {
        if (!open) return;
        open = false;
        this.#transfers--;
        this.#held.delete(held);
        this.#changedAt = performance.now();
      },
    };
  }

  /** Whether every transfer streamed from `since` on, none beginning to or ending: a window whose rate means something. */
  steadySince(since: number): boolean {
    return this.#changedAt <= since;
  }

  /**
   * Whether a download may start a trial now: none runs, fewer transfers run than when the last one failed, and we
   * are not the bottleneck.
   */
  get canBegin(): boolean {
    if (this.#trial !== undefined || this.#transfers >= this.#saturatedAt) return false;
    return !this.ourSideBound;
  }

  /** Whether our side sets the pace (more connections cannot help): see the top of this file. */
  get ourSideBound(): boolean {
    this.#sampleLoad();
    return this.#loopBusy >= BUSY_LOOP || this.#heldShare >= HELD_SHARE;
  }

  #sampleLoad(): void {
    const window = this.#mainLoad.elapsed;
    if (window < LOOP_WINDOW_MS) return;
    // One transfer held back is enough: its connection's buffers are what a cut through it throws away.
    this.#heldShare = 0;
    for (const transfer of this.#held) {
      this.#heldShare = Math.max(this.#heldShare, transfer.ms / window);
      transfer.ms = 0;
    }
    this.#loopBusy = Math.max(this.#mainLoad.take(), this.#threadBusy());
  }

  /**
   * The blob thread's busy share since the last sample. Its first sample is unknown and counts as busy: counted idle,
   * a resume split its ranges in the first window, while the thread was behind by megabytes.
   */
  #threadBusy(): number {
    const thread = runningBlobThread();
    const before = this.#threadLoad;
    if (thread === undefined) {
      this.#threadLoad = undefined;
      return 0;
    }
    if (before?.thread === thread) return before.load.take();
    this.#threadLoad = { thread, load: thread.load() };
    return 1;
  }

  /** Starts a trial (check `canBegin` first); the caller asks for its verdict with `judge` or gives it up. */
  begin(before: number, perConnection: number, added: number): GrowthTrial {
    this.#saturatedAt = Number.POSITIVE_INFINITY;
    this.#trial = {
      before,
      perConnection,
      added,
      startedAt: performance.now(),
      transfers: this.#transfers - added,
      misses: 0,
    };
    return this.#trial;
  }

  /**
   * The verdict on `trial`, given the rate of all transfers (bytes/ms) in a steady window; undefined while it needs
   * another window.
   */
  judge(trial: GrowthTrial, after: number): boolean | undefined {
    const gain = after - trial.before;
    const pays = gain >= GAIN_SHARE * trial.added * trial.perConnection && gain >= NOISE_SHARE * trial.before;
    // One slow window (a collection, the disk, another process) is not yet a verdict.
    if (!pays && ++trial.misses < WINDOWS_TO_FAIL) return undefined;
    this.#end(trial, pays);
    return pays;
  }

  /** True once the trial waited too long for its connections to stream: it ended without paying. */
  expired(trial: GrowthTrial): boolean {
    if (performance.now() - trial.startedAt < TRIAL_LIMIT_MS) return false;
    this.#end(trial, false);
    return true;
  }

  /** Ends a trial without a verdict (its download ended first). */
  abandon(trial: GrowthTrial): void {
    this.#end(trial, true);
  }

  #end(trial: GrowthTrial, paid: boolean): void {
    if (this.#trial !== trial) return;
    this.#trial = undefined;
    if (!paid) this.#saturatedAt = trial.transfers;
  }
}
