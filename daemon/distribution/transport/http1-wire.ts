// The wire for requests without a body (GET, HEAD): the registry's ping, manifests, configs and blobs. Bodies are
// read with node's `onread` and handed on without a parser of their own: undici parses every byte of a body in
// WebAssembly after copying it there, and the socket allocates each 64 KiB read afresh: for a 537 MB pull that was
// about 1 s of CPU on the event loop against 0.05 s here (measured on 4 loopback connections with the same
// registry). undici's instance and compiled code also stayed in an idle daemon after its first pull: 6-7 MiB of
// RSS. A large blob body (`bulk`) is read into the pool's reused buffers (read-buffers.ts), lent on as they are;
// other bodies are read into their connection's own buffer and copied out. A connection is kept for the next request
// to the same origin (wire-pool.ts) when the caller gives a pool: the daemon's for other bodies, the blob thread's
// (which holds only bulk connections) for large blobs. Requests with a body (a push, a token
// POST) go over undici; everything above the wire (deadline, retries, challenges, redirects, authorization, the
// address guard) is shared by both, in network.ts and the parts.

import { isIP, type LookupFunction, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type SecureContext, connect as tlsConnect } from 'node:tls';
import { bareHostname } from '../../../protocol/registry-host.ts';
import { readBuffers } from '../../read-buffers.ts';
import { HeldBody } from './held-failure.ts';
import {
  ChunkedDecoder,
  type Framing,
  framingOf,
  isFieldName,
  isFieldValue,
  MAX_HEAD_BYTES,
  MalformedResponseError,
  parseHead,
} from './http1-response.ts';
import type { ResponseBody } from './round-trip.ts';
import type { IdleConnection, WirePool } from './wire-pool.ts';

/** The connection ended or failed before the response did: retried, as a reset is. */
export class ResponseClosedError extends Error {
  override readonly name = 'ResponseClosedError';
  readonly code = 'DOCKHAND_RESPONSE_CLOSED';
}

export type WireTimeoutCode =
  | 'DOCKHAND_CONNECT_TIMEOUT'
  | 'DOCKHAND_HEADERS_TIMEOUT'
  | 'DOCKHAND_BODY_TIMEOUT';

/** No connection, no head, or no body byte within the idle timeout: retried. */
export class WireTimeoutError extends Error {
  override readonly name = 'WireTimeoutError';
  constructor(
    readonly code: WireTimeoutCode,
    message: string,
  ) {
    super(message);
  }
}

export type WireMethod = 'GET' | 'HEAD';

export interface WireRequest {
  method: WireMethod;
  url: URL;
  headers: Record<string, string | string[]>;
  /** The trust for https beyond the system's CAs (one context per trust setting, built once by the caller). */
  secureContext: SecureContext | undefined;
  /** net.connect's `lookup`: where the address guard drops refused addresses. */
  lookup: LookupFunction | undefined;
  signal: AbortSignal | undefined;
  idleTimeoutMs: number;
  /** A large blob body: read into the read-buffer pool and lent on. */
  bulk: boolean;
  /**
   * Where a connection to the URL's origin is taken from and given back to; without one, it is closed after. Bulk and
   * other connections never share a pool: they read into different buffers.
   */
  pool?: WirePool<WireConnection>;
  /**
   * The connection's key in the pool: the URL's origin unless the pool also holds connections made under another trust
   * or address screening (the blob thread's), which the key then names too.
   */
  poolKey?: string;
}

export interface WireResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: ResponseBody;
}

/** Sends the request and resolves with the response once its head arrived; the body streams after. */
export async function wireRequest(request: WireRequest): Promise<WireResponse> {
  return new WireExchange(request).response;
}

/** A non-bulk connection's own buffer: what one read brings of a manifest or an error body. */
const OWN_BUFFER_BYTES = 64 * 1024;

/** Who reads from a connection now. */
interface WireUser {
  connected(): void;
  /** `buffer` is what the connection read into, `bytes` its part that came; false stops reading. */
  read(buffer: Buffer, bytes: Buffer): boolean;
  ended(): void;
  failed(error: unknown): void;
}

/**
 * A socket and the exchange it serves. Between two exchanges it waits in a pool with nobody reading for it: bytes
 * or an end coming then mean the registry closed it or broke HTTP, and it goes.
 */
export class WireConnection implements IdleConnection {
  readonly key: string;
  readonly #socket: Socket;
  readonly #bulk: boolean;
  #user: WireUser | undefined;
  #connected = false;
  #reused = false;
  #pool: WirePool<WireConnection> | undefined;

  constructor(url: URL, request: Pick<WireRequest, 'lookup' | 'secureContext' | 'bulk' | 'poolKey'>) {
    this.key = request.poolKey ?? url.origin;
    this.#bulk = request.bulk;
    const { lookup, secureContext } = request;
    const host = bareHostname(url.hostname);
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const onread = {
      buffer: request.bulk ? () => readBuffers.take() : Buffer.allocUnsafeSlow(OWN_BUFFER_BYTES),
      callback: this.#onRead,
    };
    this.#socket =
      url.protocol === 'https:'
        ? tlsConnect({
            host,
            port,
            ...(lookup ? { lookup } : {}),
            onread,
            ALPNProtocols: ['http/1.1'],
            ...(isIP(host) !== 0 ? {} : { servername: host }),
            ...(secureContext ? { secureContext } : {}),
            // node reads TLS into `onread` buffers too (since 14.x); its types only list it for net.
          } as ConnectionOptions)
        : netConnect({ host, port, ...(lookup ? { lookup } : {}), onread });
    this.#socket.setNoDelay(true);
    this.#socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      this.#connected = true;
      this.#user?.connected();
    });
    this.#socket.on('error', (error) => this.#lost(error));
    this.#socket.once('end', () => (this.#user ? this.#user.ended() : this.#lost(undefined)));
    this.#socket.once('close', () =>
      this.#lost(new ResponseClosedError(`${url.host} closed the connection`)),
    );
  }

  get closed(): boolean {
    return this.#socket.destroyed;
  }

  /** A response came on it before: a failure before the next head may be the registry having closed it meanwhile. */
  get reused(): boolean {
    return this.#reused;
  }

  /** `user` reads from now on; told at once if the connection is already made. */
  serve(user: WireUser): void {
    this.#user = user;
    this.#pool = undefined;
    if (this.#connected) user.connected();
  }

  write(head: string): void {
    this.#socket.write(head, 'latin1');
  }

  resume(): void {
    if (!this.#socket.destroyed) this.#socket.resume();
  }

  /** The exchange is over and the connection fit for another: it waits in `pool`, still reading. */
  release(pool: WirePool<WireConnection>): void {
    this.#user = undefined;
    this.#reused = true;
    this.#pool = pool;
    this.#socket.resume();
    pool.put(this);
  }

  close(): void {
    this.#user = undefined;
    this.#socket.destroy();
  }

  readonly #onRead = (length: number, buffer: Buffer): boolean => {
    const user = this.#user;
    if (user === undefined) {
      if (this.#bulk) readBuffers.put(buffer);
      this.#lost(undefined);
      return false;
    }
    return user.read(buffer, buffer.subarray(0, length));
  };

  #lost(error: unknown): void {
    const user = this.#user;
    if (user) user.failed(error);
    else if (this.#pool) this.#pool.drop(this);
    else this.close();
  }
}

/** The body: reading resumes the connection, destroying or dumping it closes the connection. */
class WireBodyStream extends HeldBody {
  readonly #exchange: WireExchange;

  constructor(exchange: WireExchange) {
    super();
    this.#exchange = exchange;
  }

  override _read(): void {
    this.#exchange.resume();
  }

  protected override abandon(): void {
    this.#exchange.abandon();
  }

  /** Fails the body: an abort at once, a connection's failure after the bytes it brought (held-failure.ts). */
  override fail(error: Error, atOnce = false): void {
    if (atOnce) this.destroy(error);
    else super.fail(error);
  }
}

class WireExchange implements WireUser {
  readonly response: Promise<WireResponse>;
  readonly #request: WireRequest;
  readonly #requestHead: string;
  #connection!: WireConnection;
  #resolve!: (response: WireResponse) => void;
  #reject!: (error: unknown) => void;
  /** The head's bytes so far, copied out of the connection's buffers. */
  #head: Buffer | undefined;
  #body: WireBodyStream | undefined;
  #framing: Framing | undefined;
  #persistent = false;
  /** Whether the connection went back to the pool when the response ended. */
  #kept = false;
  /** Whether any byte of the answer came. */
  #heard = false;
  #left = 0;
  #chunked: ChunkedDecoder | undefined;
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  #timeout: { code: WireTimeoutCode; message: string } = { code: 'DOCKHAND_CONNECT_TIMEOUT', message: '' };

  constructor(request: WireRequest) {
    this.#request = request;
    this.response = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const { url } = request;
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new Error(`cannot ${request.method} ${url.protocol} URLs`);
    this.#requestHead = requestHead(request.method, url, request.headers, this.#request.pool !== undefined);
    const { signal } = request;
    if (signal?.aborted) {
      this.#reject(signal.reason);
      return;
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#start(this.#request.pool?.take(request.poolKey ?? url.origin));
  }

  #start(reused: WireConnection | undefined): void {
    this.#head = undefined;
    this.#heard = false;
    this.#connection = reused ?? new WireConnection(this.#request.url, this.#request);
    this.#arm('DOCKHAND_CONNECT_TIMEOUT', `no connection to ${this.#request.url.host}`);
    this.#connection.serve(this);
  }

  connected(): void {
    this.#arm('DOCKHAND_HEADERS_TIMEOUT', `no answer from ${this.#request.url.host}`);
    this.#connection.write(this.#requestHead);
  }

  read(buffer: Buffer, bytes: Buffer): boolean {
    try {
      return this.#read(buffer, bytes);
    } catch (error) {
      this.#fail(error);
      return false;
    }
  }

  #read(buffer: Buffer, bytes: Buffer): boolean {
    const { bulk } = this.#request;
    if (this.#done) {
      if (bulk) readBuffers.put(buffer);
      return false;
    }
    this.#heard = true;
    let lent: Buffer | undefined = bulk ? buffer : undefined;
    if (this.#body === undefined) {
      // The head is copied out of the buffer, and the body bytes that came with it too (once per response).
      const rest = this.#readHead(bytes);
      if (bulk) readBuffers.put(buffer);
      if (rest === undefined || rest.length === 0) return !this.#done || this.#kept;
      bytes = rest;
      lent = undefined;
    }
    this.#arm('DOCKHAND_BODY_TIMEOUT', `no body bytes from ${this.#request.url.host}`);
    const views = this.#frame(bytes);
    if (lent) readBuffers.lend(lent, views.length);
    const body = this.#body as WireBodyStream;
    let more = true;
    // A connection's own buffer is read into again at the next read: its bytes are copied out.
    for (const view of views) more = body.push(bulk ? view : Buffer.from(view)) && more;
    if (this.#done) {
      body.push(null);
      this.#finish();
      return this.#kept;
    }
    if (!more) this.#disarm();
    return more;
  }

  /** Collects the head; once whole, answers the request and returns the bytes after it. */
  #readHead(bytes: Buffer): Buffer | undefined {
    // One copy: the buffer read into goes back to its pool, or is read into again, when this returns.
    const all = this.#head === undefined ? Buffer.from(bytes) : Buffer.concat([this.#head, bytes]);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (all.length > MAX_HEAD_BYTES) throw new MalformedResponseError('the response head is too long');
      this.#head = all;
      return undefined;
    }
    if (end > MAX_HEAD_BYTES) throw new MalformedResponseError('the response head is too long');
    const head = parseHead(all.subarray(0, end));
    const rest = all.subarray(end + 4);
    if (head.statusCode < 200) {
      // An interim answer (100, 103): the real one follows.
      if (head.statusCode === 101) throw new MalformedResponseError('the registry switched protocols');
      this.#head = undefined;
      return rest.length > 0 ? this.#readHead(rest) : undefined;
    }
    this.#framing = this.#request.method === 'HEAD' ? { kind: 'none' } : framingOf(head);
    this.#persistent = head.persistent && this.#framing.kind !== 'close';
    if (this.#framing.kind === 'length') this.#left = this.#framing.length;
    if (this.#framing.kind === 'chunked') this.#chunked = new ChunkedDecoder();
    this.#head = undefined;
    const body = new WireBodyStream(this);
    this.#body = body;
    this.#resolve({ statusCode: head.statusCode, headers: head.headers, body });
    if (this.#framing.kind === 'none') {
      this.#done = true;
      // Bytes after a response without body are nobody's: the connection is not trusted with another.
      if (rest.length > 0) this.#persistent = false;
      body.push(null);
      this.#finish();
      return undefined;
    }
    return rest;
  }

  /** The body's bytes in `bytes`, as views; sets #done when the framing says the body is over. */
  #frame(bytes: Buffer): Buffer[] {
    const framing = this.#framing as Framing;
    if (framing.kind === 'chunked') {
      const views: Buffer[] = [];
      if ((this.#chunked as ChunkedDecoder).push(bytes, (view) => views.push(view))) this.#done = true;
      return views;
    }
    if (framing.kind === 'length') {
      // Bytes past Content-Length are not this body's: dropped with the connection.
      if (bytes.length > this.#left) this.#persistent = false;
      const view = bytes.length > this.#left ? bytes.subarray(0, this.#left) : bytes;
      this.#left -= view.length;
      if (this.#left === 0) this.#done = true;
      return [view];
    }
    return [bytes];
  }

  ended(): void {
    if (this.#body !== undefined && this.#framing?.kind === 'close' && !this.#done) {
      this.#done = true;
      this.#body.push(null);
      this.#finish();
      return;
    }
    this.#fail(
      new ResponseClosedError(`${this.#request.url.host} closed the connection before the response ended`),
    );
  }

  failed(error: unknown): void {
    this.#fail(error);
  }

  readonly #onAbort = () => this.#fail(this.#request.signal?.reason, true);

  /** The body asked for more. */
  resume(): void {
    if (!this.#done) {
      this.#arm('DOCKHAND_BODY_TIMEOUT', `no body bytes from ${this.#request.url.host}`);
      this.#connection.resume();
    }
  }

  /** The body was destroyed or dumped: the connection goes, unless the response had already ended. */
  abandon(): void {
    if (this.#done) return;
    this.#done = true;
    this.#close();
  }

  /** `at once`: an abort drops what the body holds; a connection's failure comes after the bytes it brought. */
  #fail(error: unknown, atOnce = false): void {
    if (this.#done) return;
    const connection = this.#connection;
    // A kept connection can fail the next request through no fault of it: the registry closed it while it waited
    // (no byte of an answer), or left bytes on it that no request asked for (a body after a HEAD answer), which then
    // read as a malformed head. The request goes again once, on a new connection (GET and HEAD are safe to send
    // twice); on a new one the same failure is the registry's.
    const stale = !this.#heard || (this.#body === undefined && error instanceof MalformedResponseError);
    if (connection.reused && stale && !atOnce && !(error instanceof WireTimeoutError)) {
      connection.close();
      this.#start(undefined);
      return;
    }
    this.#done = true;
    this.#close();
    if (this.#body === undefined) this.#reject(error);
    else this.#body.fail(error instanceof Error ? error : new ResponseClosedError(String(error)), atOnce);
  }

  /** The response ended whole: its connection is kept if it may carry another, else closed. */
  #finish(): void {
    const pool = this.#request.pool;
    if (pool === undefined || !this.#persistent) {
      this.#close();
      return;
    }
    this.#settle();
    this.#kept = true;
    this.#connection.release(pool);
  }

  #close(): void {
    this.#settle();
    this.#connection.close();
  }

  /** Nothing more to wait for: no idle timer, no abort. */
  #settle(): void {
    this.#disarm();
    this.#request.signal?.removeEventListener('abort', this.#onAbort);
  }

  /** The idle timer: restarted on every read, stopped while the reader holds the body back. */
  #arm(code: WireTimeoutCode, message: string): void {
    this.#timeout = { code, message };
    if (this.#timer) {
      this.#timer.refresh();
      return;
    }
    this.#timer = setTimeout(() => {
      const { code, message } = this.#timeout;
      this.#fail(
        new WireTimeoutError(code, `idle timeout: ${message} within ${this.#request.idleTimeoutMs} ms`),
      );
    }, this.#request.idleTimeoutMs);
    this.#timer.unref();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** The request's head; a header with a line break in it (a token server's answer, say) is refused, not sent. */
function requestHead(
  method: WireMethod,
  url: URL,
  headers: Record<string, string | string[]>,
  keepAlive: boolean,
): string {
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    for (const v of [value].flat()) {
      if (!isFieldName(name) || !isFieldValue(v))
        throw new Error(`invalid request header ${JSON.stringify(name)}`);
      head += `${name}: ${v}\r\n`;
    }
  }
  // A connection that is not kept carries one response: nothing is left on it to misread, and the registry closes it.
  return keepAlive ? `${head}\r\n` : `${head}connection: close\r\n\r\n`;
}
