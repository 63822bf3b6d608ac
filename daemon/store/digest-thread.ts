// The hashes of the store's ingests, computed on one worker thread (digest-worker.mjs): a pull's main thread only
// receives, parses and copies into batches, which the worker hashes from shared memory while the disk writes them.
// Each ingest owns a DigestStream; the thread runs every request in the order it was made, so batches are hashed in
// file order and a digest covers every batch handed over before it was asked for.
import { Worker } from 'node:worker_threads';
import { packageFile } from '../../api-spec/package-file.ts';
import type { DigestAlgorithm } from './digest.ts';
import { StoreError } from './errors.ts';

const WORKER = packageFile('daemon/store/digest-worker.mjs');
/** A thread without streams ends after this long (an idle daemon does not keep it); the next ingest starts one. */
const IDLE_MS = 10_000;

/** The digest thread failed or ended while a request waited. */
export class DigestThreadError extends StoreError {
  override readonly name = 'DigestThreadError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

type Request =
  | { op: 'start'; id: number; algorithm: DigestAlgorithm; path?: string; length: number }
  | { op: 'update'; id: number; buffer: SharedArrayBuffer; length: number }
  | { op: 'digest'; id: number }
  | { op: 'end'; id: number };

interface Reply {
  seq: number;
  value?: string;
  error?: { message: string; code?: string };
}

interface Waiter {
  resolve: (value: string | undefined) => void;
  reject: (error: Error) => void;
}

class DigestThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiter>();
  #seq = 0;
  #streams = 0;
  #idle: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(onEnd: () => void) {
    this.#worker = new Worker(WORKER);
    // Referenced only while a request waits: an idle thread never keeps the process alive.
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => {
      const waiter = this.#waiting.get(reply.seq);
      if (!waiter) return;
      this.#waiting.delete(reply.seq);
      if (this.#waiting.size === 0) this.#worker.unref();
      if (reply.error) waiter.reject(new DigestThreadError(reply.error.message, reply.error.code));
      else waiter.resolve(reply.value);
    });
    const end = (reason: string) => {
      if (this.#ended) return;
      this.#ended = true;
      clearTimeout(this.#idle);
      onEnd();
      for (const waiter of this.#waiting.values()) waiter.reject(new DigestThreadError(reason));
      this.#waiting.clear();
    };
    this.#worker.on('error', (error) => end(`the digest thread failed: ${error.message}`));
    this.#worker.on('exit', (code) => end(`the digest thread ended (exit code ${code})`));
  }

  call(request: Request): Promise<string | undefined> {
    if (this.#ended) return Promise.reject(new DigestThreadError('the digest thread has ended'));
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      if (this.#waiting.size === 0) this.#worker.ref();
      this.#waiting.set(seq, { resolve, reject });
      this.#worker.postMessage({ ...request, seq });
    });
  }

  opened(): void {
    this.#streams++;
    clearTimeout(this.#idle);
  }

  closed(): void {
    this.#streams--;
    if (this.#streams > 0) return;
    this.#idle = setTimeout(() => void this.#worker.terminate(), IDLE_MS);
    this.#idle.unref();
  }
}

let thread: DigestThread | undefined;
let nextId = 0;

function digestThread(): DigestThread {
  if (!thread) {
    const started: DigestThread = new DigestThread(() => {
      if (thread === started) thread = undefined;
    });
    thread = started;
  }
  return thread;
}

/** One ingest's hash. Requests may be made without waiting for the previous ones: they run in order. */
export class DigestStream {
  readonly #thread: DigestThread;
  readonly #id = ++nextId;
  readonly #algorithm: DigestAlgorithm;
  #ended = false;

  constructor(algorithm: DigestAlgorithm) {
    this.#algorithm = algorithm;
    this.#thread = digestThread();
    this.#thread.opened();
  }

  /** A new hash, over the first `prefix.length` bytes of the file at `prefix.path` when given (a resumed partial). */
  async restart(prefix?: { path: string; length: number }): Promise<void> {
    await this.#thread.call({
      op: 'start',
      id: this.#id,
      algorithm: this.#algorithm,
      length: prefix?.length ?? 0,
      ...(prefix ? { path: prefix.path } : {}),
    });
  }

  /** Hashes the first `length` bytes of `buffer`, which must not change until the promise settles. */
  async update(buffer: SharedArrayBuffer, length: number): Promise<void> {
    await this.#thread.call({ op: 'update', id: this.#id, buffer, length });
  }

  /** The hex digest of everything hashed so far. */
  async digest(): Promise<string> {
    return (await this.#thread.call({ op: 'digest', id: this.#id })) as string;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#thread.call({ op: 'end', id: this.#id }).catch(() => {});
    this.#thread.closed();
  }
}
