// A bulk GET made by the blob thread, as the daemon sees it: the same WireResponse as http1-wire.ts gives, whose body
// either streams here a chunk at a time (an error body, anything read as a stream) or is written to its file by the
// thread (sinkTo), which then reports only how many bytes are on disk.
import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { untilAborted } from '../../protocol/abort.ts';
import { systemResolver } from '../../protocol/address-guard.ts';
import { bareHostname } from '../../protocol/registry-host.ts';
import { HeldBody } from '../distribution/transport/held-failure.ts';
import { MalformedResponseError } from '../distribution/transport/http1-response.ts';
import {
  ResponseClosedError,
  type WireResponse,
  type WireTimeoutCode,
  WireTimeoutError,
} from '../distribution/transport/http1-wire.ts';
import { type TransferRate, TransferTooSlowError } from '../distribution/transport/transfer-rate.ts';
import type { BlobHash } from '../store/blob-hash.ts';
import { ThreadedHash } from '../store/blob-hash.ts';
import type { SinkableBody, SinkControl, SinkResult, SinkTarget } from '../store/body-sink.ts';
import { type BlobThread, blobThread, type ThreadPeer } from './blob-thread.ts';
import type { FromThread, SerializedError, ThreadRequest, ToThread } from './messages.ts';

export interface ThreadWireRequest {
  url: URL;
  headers: Record<string, string | string[]>;
  ca: readonly string[] | undefined;
  /** Where the address guard drops refused addresses; the system's resolver when absent. */
  lookup: LookupFunction | undefined;
  signal: AbortSignal | undefined;
  idleTimeoutMs: number;
}

/** A bulk GET on the blob thread; resolves once the response's head came. */
export async function threadRequest(request: ThreadWireRequest): Promise<WireResponse> {
  const { url, signal } = request;
  signal?.throwIfAborted();
  const host = bareHostname(url.hostname);
  const addresses = isIP(host) === 0 ? await untilAborted(resolve(host, request.lookup), signal) : undefined;
  const exchange = new RemoteExchange(blobThread(), signal, {
    url: url.href,
    headers: request.headers,
    addresses,
    ca: request.ca,
    idleTimeoutMs: request.idleTimeoutMs,
  });
  return exchange.response;
}

/** The name's addresses, through the guard's lookup when there is one (it drops the refused ones, or refuses). */
function resolve(host: string, lookup: LookupFunction | undefined): Promise<LookupAddress[]> {
  if (lookup === undefined) return systemResolver(host);
  return new Promise((done, fail) =>
    lookup(host, { all: true }, (error, addresses) =>
      error ? fail(error) : done(addresses as unknown as LookupAddress[]),
    ),
  );
}

/** The thread's error as the one the daemon's wire would have thrown: the retry layer knows them by class and code. */
function revive(error: SerializedError): Error {
  switch (error.name) {
    case 'ResponseClosedError':
      return new ResponseClosedError(error.message);
    case 'WireTimeoutError':
      return new WireTimeoutError(error.code as WireTimeoutCode, error.message);
    case 'MalformedResponseError':
      return new MalformedResponseError(error.message);
    case 'TransferTooSlowError':
      return new TransferTooSlowError(error.message);
    default:
      return Object.assign(new Error(error.message), {
        name: error.name,
        ...(error.code === undefined ? {} : { code: error.code }),
      });
  }
}

type WithoutId<M> = M extends unknown ? Omit<M, 'id'> : never;
/** What the daemon says about an exchange once its head came. */
type BodyMessage = WithoutId<Extract<ToThread, { op: 'rate' | 'read' | 'sink' }>>;

interface SinkPeer {
  wrote(bytes: number, heldMs: number): void;
  sunk(message: Extract<FromThread, { op: 'sunk' }>): void;
  failed(error: Error): void;
  abort(reason: unknown): void;
}

class RemoteExchange implements ThreadPeer {
  readonly response: Promise<WireResponse>;
  readonly thread: BlobThread;
  readonly #id: number;
  readonly #signal: AbortSignal | undefined;
  #resolve!: (response: WireResponse) => void;
  #reject!: (error: unknown) => void;
  #body: RemoteBody | undefined;
  #sink: SinkPeer | undefined;
  /** Nothing more comes from the thread for this exchange. */
  #over = false;

  constructor(thread: BlobThread, signal: AbortSignal | undefined, request: ThreadRequest) {
    this.response = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.thread = thread;
    this.#signal = signal;
    this.#id = thread.join(this);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    thread.post({ op: 'fetch', id: this.#id, request });
  }

  /** Sends `message` about this exchange, unless it is over. */
  post(message: BodyMessage): void {
    if (!this.#over) this.thread.post({ ...message, id: this.#id });
  }

  /** Closes the connection. A sink under way still reports what it wrote; anything else is over now. */
  drop(): void {
    if (this.#over) return;
    this.thread.post({ op: 'drop', id: this.#id });
    if (this.#sink === undefined) this.#leave();
  }

  readonly #onAbort = () => {
    const reason = this.#signal?.reason;
    if (this.#body === undefined) {
      this.drop();
      this.#reject(reason);
    } else if (this.#sink) this.#sink.abort(reason);
    else this.#body.destroy(reason instanceof Error ? reason : new Error(String(reason)));
  };

  #leave(): void {
    if (this.#over) return;
    this.#over = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.thread.leave(this.#id);
  }

  answer(m: FromThread): void {
    switch (m.op) {
      case 'head':
        this.#body = new RemoteBody(this);
        this.#resolve({ statusCode: m.statusCode, headers: m.headers, body: this.#body });
        return;
      case 'failed':
        this.#leave();
        this.#reject(revive(m.error));
        return;
      case 'chunk':
        this.#body?.push(Buffer.from(m.bytes));
        return;
      case 'end':
        this.#leave();
        this.#body?.push(null);
        return;
      case 'error':
        this.#leave();
        this.#body?.fail(revive(m.error));
        return;
      case 'wrote':
        this.#sink?.wrote(m.bytes, m.heldMs);
        return;
      case 'sunk':
        this.#leave();
        this.#sink?.sunk(m);
        return;
    }
  }

  fail(error: Error): void {
    this.#leave();
    if (this.#body === undefined) this.#reject(error);
    else if (this.#sink) this.#sink.failed(error);
    else this.#body.fail(error);
  }

  /** The body, written to `target.fd` by the thread, `control.room` bytes at most. */
  sink(target: SinkTarget, control: SinkControl): Promise<SinkResult> {
    return new Promise((resolve) => {
      let aborted = false;
      let abortReason: unknown;
      const onAbort = () => sink.abort(control.signal?.reason);
      const settle = (result: SinkResult) => {
        control.signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const sink: SinkPeer = {
        wrote: (bytes, heldMs) => {
          if (heldMs > 0) control.onHeldBack?.(heldMs);
          control.onBytes(bytes);
        },
        sunk: (m) => {
          const error = m.error && revive(m.error);
          settle({
            ended: !aborted && m.ended,
            over: m.over,
            error: aborted && !m.diskFailed ? toError(abortReason) : error,
            diskFailed: m.diskFailed,
          });
        },
        failed: (error) => settle({ ended: false, over: false, error, diskFailed: false }),
        abort: (reason) => {
          if (aborted) return;
          aborted = true;
          abortReason = reason;
          this.thread.post({ op: 'drop', id: this.#id });
        },
      };
      this.#sink = sink;
      const hash = target.hash instanceof ThreadedHash ? target.hash.id : undefined;
      this.post({ op: 'sink', fd: target.fd, hash, limit: control.room, cut: control.cut });
      if (control.signal?.aborted) sink.abort(control.signal.reason);
      else control.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** The body of a bulk response: read as a stream, or written to a file by the thread (sinkTo). */
class RemoteBody extends HeldBody implements SinkableBody {
  readonly #exchange: RemoteExchange;
  #mode: 'idle' | 'read' | 'sink' = 'idle';

  constructor(exchange: RemoteExchange) {
    super();
    this.#exchange = exchange;
  }

  override _read(): void {
    this.#mode = 'read';
    this.#exchange.post({ op: 'read' });
  }

  protected override abandon(): void {
    this.#exchange.drop();
  }

  /** The body's rate is watched where its bytes come (transfer-rate.ts, on the thread). */
  watchRate(rate: TransferRate): this {
    this.#exchange.post({ op: 'rate', rate });
    return this;
  }

  canSink(hash: BlobHash | undefined): boolean {
    return (
      this.#mode === 'idle' &&
      !this.destroyed &&
      (hash === undefined || (hash instanceof ThreadedHash && hash.thread === this.#exchange.thread))
    );
  }

  sinkTo(target: SinkTarget, control: SinkControl): Promise<SinkResult> {
    this.#mode = 'sink';
    return this.#exchange.sink(target, control);
  }
}

export function isRemoteBody(body: unknown): body is RemoteBody {
  return body instanceof RemoteBody;
}
