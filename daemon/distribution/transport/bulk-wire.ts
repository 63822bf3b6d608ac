// The wire for large blob bodies: one GET on a connection of its own, read with node's `onread` into buffers that
// are reused (read-buffers.ts) and handed on as they are. undici parses every byte of a body in WebAssembly after
// copying it there, and the socket allocates each 64 KiB read afresh: for a 537 MB pull that was about 1 s of CPU
// on the event loop against 0.05 s here (measured on 4 loopback connections with the same registry). Only GETs of
// blob bodies come here; everything else, and everything above the wire (deadline, retries, challenges, redirects,
// authorization, the address guard), is shared with undici's path in network.ts.

import { isIP, type LookupFunction, connect as netConnect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { type ConnectionOptions, type SecureContext, connect as tlsConnect } from 'node:tls';
import { bareHostname } from '../../../protocol/index.ts';
import { READ_BUFFER_BYTES, readBuffers } from '../../read-buffers.ts';
import { HeldFailure } from './held-failure.ts';
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

export interface BulkRequest {
  url: URL;
  headers: Record<string, string | string[]>;
  /** The trust for https beyond the system's CAs (one context per trust setting, built once by the caller). */
  secureContext: SecureContext | undefined;
  /** net.connect's `lookup`: where the address guard drops refused addresses. */
  lookup: LookupFunction | undefined;
  signal: AbortSignal | undefined;
  idleTimeoutMs: number;
}

export interface BulkResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: ResponseBody;
}

/** Sends one GET and resolves with the response once its head arrived; the body streams after. */
export async function bulkGet(request: BulkRequest): Promise<BulkResponse> {
  return new BulkExchange(request).response;
}

/** The body: reading resumes the connection, destroying or dumping it closes the connection. */
class BulkBodyStream extends Readable implements ResponseBody {
  readonly #exchange: BulkExchange;
  readonly #held = new HeldFailure(this, () => this.readableLength === 0);

  constructor(exchange: BulkExchange) {
    // A reader that keeps up takes each chunk as it is pushed; one that does not pauses the connection after one
    // (more would reach an iterating reader concatenated: a copy, and buffers never given back).
    super({ highWaterMark: READ_BUFFER_BYTES });
    this.#exchange = exchange;
  }

  override _read(): void {
    this.#exchange.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#exchange.abandon();
    // A body can fail in the read that brought its head (a bad chunk right after it), before whoever awaits the
    // response could listen: the error waits a turn of the event loop rather than go uncaught (undici does so too).
    if (error && this.listenerCount('error') === 0) setImmediate(() => callback(error));
    else callback(error);
  }

  async dump(): Promise<void> {
    this.destroy();
  }

  /** Fails the body: an abort at once, a connection's failure after the bytes it brought (held-failure.ts). */
  fail(error: Error, atOnce: boolean): void {
    if (atOnce) this.destroy(error);
    else this.#held.fail(error);
  }

  override read(size?: number): unknown {
    const chunk = super.read(size);
    this.#held.afterRead();
    return chunk;
  }
}

class BulkExchange {
  readonly response: Promise<BulkResponse>;
  readonly #request: BulkRequest;
  readonly #socket: Socket;
  readonly #requestHead: string;
  #resolve!: (response: BulkResponse) => void;
  #reject!: (error: unknown) => void;
  #head: Buffer[] = [];
  #headBytes = 0;
  #body: BulkBodyStream | undefined;
  #framing: Framing | undefined;
  #left = 0;
  #chunked: ChunkedDecoder | undefined;
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  #timeout: { code: WireTimeoutCode; message: string } = { code: 'DOCKHAND_CONNECT_TIMEOUT', message: '' };

  constructor(request: BulkRequest) {
    this.#request = request;
    this.response = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const { url, secureContext, lookup } = request;
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new Error(`cannot GET ${url.protocol} URLs`);
    this.#requestHead = requestHead(url, request.headers);
    const host = bareHostname(url.hostname);
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const onread = { buffer: () => readBuffers.take(), callback: this.#onRead };
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
    this.#arm('DOCKHAND_CONNECT_TIMEOUT', `no connection to ${url.host}`);
    this.#socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', this.#onConnect);
    this.#socket.on('error', (error) => this.#fail(error));
    this.#socket.once('end', this.#onEnd);
    this.#socket.once('close', () =>
      this.#fail(new ResponseClosedError(`${url.host} closed the connection`)),
    );
    const { signal } = request;
    if (signal) {
      if (signal.aborted) this.#fail(signal.reason);
      else signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  readonly #onConnect = () => {
    this.#arm('DOCKHAND_HEADERS_TIMEOUT', `no answer from ${this.#request.url.host}`);
    this.#socket.write(this.#requestHead, 'latin1');
  };

  readonly #onRead = (length: number, buffer: Buffer): boolean => {
    try {
      return this.#read(buffer, buffer.subarray(0, length));
    } catch (error) {
      this.#fail(error);
      return false;
    }
  };

  #read(buffer: Buffer, bytes: Buffer): boolean {
    if (this.#done) {
      readBuffers.put(buffer);
      return false;
    }
    let lent: Buffer | undefined = buffer;
    if (this.#body === undefined) {
      // The head is copied out of the buffer, and the body bytes that came with it too (once per response).
      const rest = this.#readHead(bytes);
      readBuffers.put(buffer);
      if (rest === undefined || rest.length === 0) return !this.#done;
      bytes = rest;
      lent = undefined;
    }
    this.#arm('DOCKHAND_BODY_TIMEOUT', `no body bytes from ${this.#request.url.host}`);
    const views = this.#frame(bytes);
    if (lent) readBuffers.lend(lent, views.length);
    const body = this.#body as BulkBodyStream;
    let more = true;
    for (const view of views) more = body.push(view) && more;
    if (this.#done) {
      body.push(null);
      this.#close();
      return false;
    }
    if (!more) this.#disarm();
    return more;
  }

  /** Collects the head; once whole, answers the request and returns the bytes after it. */
  #readHead(bytes: Buffer): Buffer | undefined {
    this.#head.push(Buffer.from(bytes));
    this.#headBytes += bytes.length;
    const all = Buffer.concat(this.#head);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.#headBytes > MAX_HEAD_BYTES) throw new MalformedResponseError('the response head is too long');
      this.#head = [all];
      return undefined;
    }
    if (end > MAX_HEAD_BYTES) throw new MalformedResponseError('the response head is too long');
    const head = parseHead(all.subarray(0, end));
    const rest = all.subarray(end + 4);
    if (head.statusCode < 200) {
      // An interim answer (100, 103): the real one follows.
      if (head.statusCode === 101) throw new MalformedResponseError('the registry switched protocols');
      this.#head = [];
      this.#headBytes = 0;
      return rest.length > 0 ? this.#readHead(rest) : undefined;
    }
    this.#framing = framingOf(head);
    if (this.#framing.kind === 'length') this.#left = this.#framing.length;
    if (this.#framing.kind === 'chunked') this.#chunked = new ChunkedDecoder();
    this.#head = [];
    const body = new BulkBodyStream(this);
    this.#body = body;
    this.#resolve({ statusCode: head.statusCode, headers: head.headers, body });
    if (this.#framing.kind === 'none') {
      this.#done = true;
      body.push(null);
      this.#close();
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
      const view = bytes.length > this.#left ? bytes.subarray(0, this.#left) : bytes;
      this.#left -= view.length;
      if (this.#left === 0) this.#done = true;
      return [view];
    }
    return [bytes];
  }

  readonly #onEnd = () => {
    if (this.#body !== undefined && this.#framing?.kind === 'close' && !this.#done) {
      this.#done = true;
      this.#body.push(null);
      this.#close();
      return;
    }
    this.#fail(
      new ResponseClosedError(`${this.#request.url.host} closed the connection before the response ended`),
    );
  };

  readonly #onAbort = () => this.#fail(this.#request.signal?.reason, true);

  /** The body asked for more. */
  resume(): void {
    if (this.#done || this.#socket.destroyed) return;
    this.#arm('DOCKHAND_BODY_TIMEOUT', `no body bytes from ${this.#request.url.host}`);
    this.#socket.resume();
  }

  /** The body was destroyed or dumped: the connection goes. */
  abandon(): void {
    this.#done = true;
    this.#close();
  }

  /** `at once`: an abort drops what the body holds; a connection's failure comes after the bytes it brought. */
  #fail(error: unknown, atOnce = false): void {
    if (this.#done && this.#socket.destroyed) return;
    const wasDone = this.#done;
    this.#done = true;
    this.#close();
    if (wasDone) return;
    if (this.#body === undefined) this.#reject(error);
    else this.#body.fail(error instanceof Error ? error : new ResponseClosedError(String(error)), atOnce);
  }

  #close(): void {
    this.#disarm();
    this.#request.signal?.removeEventListener('abort', this.#onAbort);
    this.#socket.destroy();
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
      this.#fail(new WireTimeoutError(code, `${message} within ${this.#request.idleTimeoutMs} ms`));
    }, this.#request.idleTimeoutMs);
    this.#timer.unref();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** The request's head; a header with a line break in it (a token server's answer, say) is refused, not sent. */
function requestHead(url: URL, headers: Record<string, string | string[]>): string {
  let head = `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    for (const v of [value].flat()) {
      if (!isFieldName(name) || !isFieldValue(v))
        throw new Error(`invalid request header ${JSON.stringify(name)}`);
      head += `${name}: ${v}\r\n`;
    }
  }
  // One response per connection: nothing is left on it to misread, and the registry closes it when done.
  return `${head}connection: close\r\n\r\n`;
}
