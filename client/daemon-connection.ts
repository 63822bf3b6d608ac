// HTTP to the daemon over its unix socket (or tcp): node's own http client with keep-alive connections.
// Not undici here: importing it costs about as much as starting node, and its WebAssembly HTTP parser keeps a
// short-lived process alive for a few hundred milliseconds more while V8 finishes optimising the parser in the
// background. A `dockhand version` is two small requests; the registry side of the SDK keeps undici.

import http from 'node:http';
import type { Readable } from 'node:stream';
import { bareHostname } from '../protocol/registry-host.ts';
import type { DaemonAddress } from './daemon-address.ts';
import { ClientClosedError, type ResponseHeaders } from './errors.ts';

export interface DaemonRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  /** Path and query, e.g. `/v1.50/images/json?all=1`. */
  path: string;
  headers?: Record<string, string> | undefined;
  body?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface DaemonResponse {
  statusCode: number;
  /** Lower-case names; a header sent more than once is an array of its lines, in order. */
  headers: ResponseHeaders;
  /** Read it to the end (or destroy it) so the connection can serve the next request. */
  body: Readable;
}

export class DaemonConnection {
  readonly #agent: http.Agent;
  readonly #target: { socketPath: string; servername: string } | { host: string; port: number };
  /** Requests whose response has not been read to its end yet: close() waits for them. */
  readonly #open = new Set<Promise<void>>();
  #closed = false;

  constructor(address: DaemonAddress, connections: number) {
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    if (address.kind === 'unix') {
      // No TLS on a socket: an empty servername spares node's check of whether the host is an IP address, whose
      // IPv6 pattern costs tens of milliseconds to compile on first use.
      this.#target = { socketPath: address.socketPath, servername: '' };
    } else {
      const url = new URL(address.origin);
      // URL keeps an IPv6 address in brackets; node's http wants it bare.
      this.#target = { host: bareHostname(url.hostname), port: Number(url.port) };
    }
  }

  /**
   * Resolves with the status and headers; the body streams after. An abort rejects with the signal's reason,
   * before the answer or while its body is read, and closes the connection so the daemon stops the operation.
   */
  send(request: DaemonRequest): Promise<DaemonResponse> {
    if (this.#closed) return Promise.reject(new ClientClosedError());
    const { signal } = request;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let finished!: () => void;
    const open = new Promise<void>((resolve) => {
      finished = resolve;
    });
    this.#open.add(open);
    void open.then(() => this.#open.delete(open));
    return new Promise<DaemonResponse>((resolve, reject) => {
      const req = http.request({
        ...this.#target,
        agent: this.#agent,
        method: request.method,
        path: request.path,
        headers: request.headers,
      });
      let body: Readable | undefined;
      const onAbort = () => {
        body?.destroy(signal?.reason);
        req.destroy(signal?.reason);
      };
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        finished();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => {
        done();
        reject(err);
      });
      req.on('response', (res) => {
        body = res;
        res.once('close', done);
        resolve({ statusCode: res.statusCode ?? 0, headers: headerLines(res.headersDistinct), body: res });
      });
      req.end(request.body);
    });
  }

  /** Waits for the responses still being read, then closes every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#open.size > 0) await Promise.all(this.#open);
    this.#agent.destroy();
  }
}

/** node joins a repeated header into one comma-separated value; a challenge needs its lines kept apart. */
function headerLines(distinct: NodeJS.Dict<string[]>): ResponseHeaders {
  const headers: ResponseHeaders = {};
  for (const [name, values] of Object.entries(distinct)) {
    if (values !== undefined) headers[name] = values.length === 1 ? values[0] : values;
  }
  return headers;
}
