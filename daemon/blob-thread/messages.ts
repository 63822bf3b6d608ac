// What the daemon and the blob thread say to each other. Both sides name every conversation by one id: a blob's hash,
// or a bulk exchange (a request, its head, then its body forwarded or written to a file there).
import type { LookupAddress } from 'node:dns';
import type { TransferRate } from '../distribution/transport/transfer-rate.ts';

/** What the thread is started with. */
export interface BlobThreadData {
  /** The priority it takes for itself: the daemon's helper threads yield to its API loop (thread-priority.ts). */
  nice: number | undefined;
}

/** A bulk GET as the thread makes it: the addresses already resolved (and screened) by the daemon. */
export interface ThreadRequest {
  url: string;
  headers: Record<string, string | string[]>;
  /** The name's addresses, in the resolver's order; absent when the URL's host is an IP literal. */
  addresses: LookupAddress[] | undefined;
  /** PEM CAs trusted on top of the system's. */
  ca: readonly string[] | undefined;
  idleTimeoutMs: number;
}

export interface SerializedError {
  name: string;
  message: string;
  code: string | undefined;
}

export type ToThread =
  | { op: 'open'; id: number; algorithm: string }
  | { op: 'update'; id: number; seq: number; buffer: ArrayBufferLike; offset: number; length: number }
  | { op: 'digest'; id: number }
  | { op: 'close'; id: number }
  | { op: 'fetch'; id: number; request: ThreadRequest }
  /** Watch the body's rate from now on (transfer-rate.ts). */
  | { op: 'rate'; id: number; rate: TransferRate }
  /** Send the body's next chunk. */
  | { op: 'read'; id: number }
  /**
   * Write the body to `fd` (hashing it into the hash `hash` first), `limit` bytes at most. `cut`: the body is closed
   * there, before the registry sends more (a range's piece); otherwise its framing must end there, and a byte past it
   * is `over`.
   */
  | { op: 'sink'; id: number; fd: number; hash: number | undefined; limit: number; cut: boolean }
  /** Close the exchange's connection; a sink still reports what it wrote. */
  | { op: 'drop'; id: number };

export type FromThread =
  | { op: 'hashed'; id: number; seq: number }
  | { op: 'digest'; id: number; hex: string }
  | { op: 'hashFailed'; id: number; error: SerializedError }
  | { op: 'head'; id: number; statusCode: number; headers: Record<string, string | string[]> }
  /** The request failed before a head came. */
  | { op: 'failed'; id: number; error: SerializedError }
  | { op: 'chunk'; id: number; bytes: ArrayBuffer }
  | { op: 'end'; id: number }
  | { op: 'error'; id: number; error: SerializedError }
  /**
   * Bytes of a sink now on disk; `heldMs`: how long since its last report the thread kept the body paused for the
   * disk, while the connection's buffers filled.
   */
  | { op: 'wrote'; id: number; bytes: number; heldMs: number }
  /**
   * A sink is over, every byte it took on disk: the body ended, was cut at its limit (neither `ended` nor an error: the
   * daemon counted the bytes), carried more than its limit (`over`), failed, or was dropped.
   */
  | {
      op: 'sunk';
      id: number;
      ended: boolean;
      over: boolean;
      error: SerializedError | undefined;
      diskFailed: boolean;
    };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, code: typeof code === 'string' ? code : undefined };
  }
  return { name: 'Error', message: String(error), code: undefined };
}
