// One holder per key at a time, FIFO, with abortable waits: the store serializes work on one digest with it, the
// client's token stores one host's read-modify-write.

type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
}

export class KeyedMutex {
  // A key is present while held; its array holds the waiters queued behind the holder.
  readonly #queues = new Map<string, Waiter[]>();

  isLocked(key: string): boolean {
    return this.#queues.has(key);
  }

  /** Takes the key now, or returns undefined when someone holds it. */
  tryAcquire(key: string): Release | undefined {
    if (this.#queues.has(key)) return undefined;
    this.#queues.set(key, []);
    return this.#releaser(key);
  }

  acquire(key: string, signal?: AbortSignal): Promise<Release> {
    signal?.throwIfAborted();
    const now = this.tryAcquire(key);
    if (now) return Promise.resolve(now);
    const queue = this.#queues.get(key)!;
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs `fn` holding `key`: callers with the same key take turns, in call order. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(key);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #releaser(key: string): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const queue = this.#queues.get(key)!;
      const next = queue.shift();
      if (next) next.grant(this.#releaser(key));
      else this.#queues.delete(key);
    };
  }
}
