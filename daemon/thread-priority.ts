// The daemon's API loop goes first. A pull keeps both cores of a small machine busy (the blob thread reading, hashing
// and writing, libuv's pool writing, a registry sending), and the main thread, which answers the API, then waited in
// the run queue 5-18 ms at a time while running 0-5 ms of that (its /proc schedstat): GET /_ping p99 of 7-26 ms over
// a pull. So every other thread of the daemon's process runs at a lower priority, 10 nice steps below the main
// thread (19 at most): libuv's pool and V8's helpers before the daemon listens, each blob thread as it starts. Linux
// only: there a thread has an id of its own that setpriority takes; elsewhere the process's id would lower the main
// thread too.
import { readlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { getPriority, setPriority } from 'node:os';

/** How much lower than the main thread (which keeps the process's priority) the helper threads run. */
const HELPER_NICE_STEP = 10;
/** The lowest priority there is. */
const MAX_NICE = 19;

let helper: number | undefined;

/**
 * Lowers every thread of the process but the main one (whose id is the process's). For the daemon's own process
 * only: a process that embeds the daemon keeps its threads as they are.
 */
export async function lowerHelperThreads(): Promise<void> {
  // Listing the threads is itself work for libuv's pool: its threads exist by the time the list comes.
  const tasks = await readdir('/proc/self/task').catch(() => []);
  if (tasks.length === 0) return;
  const nice = Math.min(MAX_NICE, getPriority() + HELPER_NICE_STEP);
  helper = nice;
  for (const task of tasks) {
    const tid = Number(task);
    if (tid !== process.pid) lower(tid, nice);
  }
}

/** The nice value a helper thread started from now on takes for itself, once the daemon lowered its helpers. */
export function helperNice(): number | undefined {
  return helper;
}

/** Lowers the calling thread (a worker, as it starts) to `nice`. */
export function lowerThisThread(nice: number): void {
  const self = readlinkSync('/proc/thread-self', { encoding: 'utf8' });
  lower(Number(self.slice(self.lastIndexOf('/') + 1)), nice);
}

/** A thread that ended meanwhile, or a system that refuses, leaves the thread as it was: priority is no duty. */
function lower(tid: number, nice: number): void {
  try {
    setPriority(tid, nice);
  } catch {}
}
