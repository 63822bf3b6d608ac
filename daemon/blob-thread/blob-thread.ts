// The daemon's side of the blob thread (thread.ts): started for the first large blob, ended once nothing has used it
// for IDLE_MS, and with it its memory. Each hash and each bulk exchange is a peer that joins under an id, gets the
// thread's messages for that id, and leaves when it is over.
import { Worker } from 'node:worker_threads';
import { ThreadLoad } from '../thread-load.ts';
import { helperNice } from '../thread-priority.ts';
import type { BlobThreadData, FromThread, ToThread } from './messages.ts';

/** The thread goes this long after its last peer left. */
const IDLE_MS = 2000;

export interface ThreadPeer {
  answer(message: FromThread): void;
  /** The thread failed or ended: nothing more will come for this peer. */
  fail(error: Error): void;
}

export class BlobThread {
  readonly #worker: Worker;
  readonly #peers = new Map<number, ThreadPeer>();
  readonly #onEnd: () => void;
  #nextId = 0;
  #idle: NodeJS.Timeout | undefined;
  #failure: Error | undefined;

  /** `onEnd`: the thread takes no more peers (idle, or failed); a new one serves the next. */
  constructor(onEnd: () => void) {
    this.#onEnd = onEnd;
    this.#worker = startWorker();
    this.#worker.unref();
    this.#worker.on('message', (m: FromThread) => this.#peers.get(m.id)?.answer(m));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', () => this.#fail(new Error('the blob thread ended')));
  }

  /** A new peer's id; a peer that joins a failed thread is failed at once. */
  join(peer: ThreadPeer): number {
    clearTimeout(this.#idle);
    const id = this.#nextId++;
    this.#peers.set(id, peer);
    const failure = this.#failure;
    if (failure) queueMicrotask(() => peer.fail(failure));
    return id;
  }

  leave(id: number): void {
    if (!this.#peers.delete(id) || this.#peers.size > 0) return;
    this.#idle = setTimeout(() => {
      this.#onEnd();
      void this.#worker.terminate();
    }, IDLE_MS).unref();
  }

  /** How busy the thread is, from now on (thread-load.ts). */
  load(): ThreadLoad {
    return new ThreadLoad((since) => this.#worker.performance.eventLoopUtilization(since));
  }

  post(message: ToThread, transfer?: ArrayBuffer[]): void {
    if (this.#failure === undefined) this.#worker.postMessage(message, transfer ?? []);
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#onEnd();
    const peers = [...this.#peers.values()];
    this.#peers.clear();
    for (const peer of peers) peer.fail(error);
  }
}

let current: BlobThread | undefined;

/** The blob thread that serves new peers: the daemon's bulk exchanges and large blobs' hashes. */
export function blobThread(): BlobThread {
  const thread =
    current ??
    new BlobThread(() => {
      if (current === thread) current = undefined;
    });
  current = thread;
  return thread;
}

/** The blob thread serving now, if one runs. */
export function runningBlobThread(): BlobThread | undefined {
  return current;
}

function startWorker(): Worker {
  const workerData: BlobThreadData = { nice: helperNice() };
  if (import.meta.url.endsWith('.ts')) {
    // Run from its sources (the tests run the daemon in-process): the thread's TypeScript goes through tsx,
    // registered in the thread before its entry loads.
    const url = JSON.stringify(new URL('./thread.ts', import.meta.url).href);
    return new Worker(
      `import('tsx/esm/api').then(({ register }) => { register(); return import(${url}); });`,
      { eval: true, workerData },
    );
  }
  return new Worker(new URL('./thread.js', import.meta.url), { workerData });
}
