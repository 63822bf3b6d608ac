// Connections kept open between requests to one origin, as any HTTP/1.1 client keeps them (Go's Transport, undici's
// Pool): a pull asks a registry for its ping, its manifests and its config one after another, and each connection
// of their own would cost a TCP (and TLS) handshake. A connection waits here at most `idleMs`, and goes as soon as
// the registry closes it or sends anything unasked.

/** How long a kept connection waits for the next request, on either wire. */
export const KEEP_ALIVE_MS = 30_000;

/** What the pool holds: a connection between two responses. */
export interface IdleConnection {
  /** Which requests it may serve: its origin, and more where one pool holds connections made under other settings. */
  readonly key: string;
  readonly closed: boolean;
  close(): void;
}

interface Waiting<C extends IdleConnection> {
  connection: C;
  timer: NodeJS.Timeout;
}

export class WirePool<C extends IdleConnection = IdleConnection> {
  readonly #idle = new Map<string, Waiting<C>[]>();
  readonly #idleMs: number;
  readonly #maxIdlePerOrigin: number;

  constructor(idleMs: number, maxIdlePerOrigin = 8) {
    this.#idleMs = idleMs;
    this.#maxIdlePerOrigin = maxIdlePerOrigin;
  }

  /** The connection for `key` that waited least, if one is open. */
  take(key: string): C | undefined {
    const waiting = this.#idle.get(key);
    while (waiting && waiting.length > 0) {
      const { connection, timer } = waiting.pop() as Waiting<C>;
      clearTimeout(timer);
      if (waiting.length === 0) this.#idle.delete(key);
      if (!connection.closed) return connection;
    }
    return undefined;
  }

  /** A connection whose response ended; closed instead when its key has enough waiting. */
  put(connection: C): void {
    const waiting = this.#idle.get(connection.key) ?? [];
    if (connection.closed || waiting.length >= this.#maxIdlePerOrigin) {
      connection.close();
      return;
    }
    const timer = setTimeout(() => this.drop(connection), this.#idleMs).unref();
    waiting.push({ connection, timer });
    this.#idle.set(connection.key, waiting);
  }

  /** Closes `connection` if it waits here (the registry closed it, or its wait is over). */
  drop(connection: C): void {
    const waiting = this.#idle.get(connection.key);
    const at = waiting?.findIndex((w) => w.connection === connection) ?? -1;
    if (waiting && at >= 0) {
      clearTimeout(waiting[at]?.timer);
      waiting.splice(at, 1);
      if (waiting.length === 0) this.#idle.delete(connection.key);
    }
    connection.close();
  }

  close(): void {
    for (const waiting of this.#idle.values()) {
      for (const { connection, timer } of waiting) {
        clearTimeout(timer);
        connection.close();
      }
    }
    this.#idle.clear();
  }
}
