// The wire: keep-alive pools per origin (undici's Agent keeps one Pool per origin), one Agent per trust setting
// (the system's CAs plus certs.d's for the registry, as dockerd adds them), every request with the daemon's
// User-Agent, and connect, headers and body idle timeouts. undici is loaded at the first registry request: an idle
// daemon that never pulled does not carry it.

import { rootCertificates } from 'node:tls';
import type { Agent } from 'undici';
import { RegistryConnectionError } from '../errors.ts';
import type { RoundTrip } from './round-trip.ts';

export interface NetworkOptions {
  userAgent: string;
  /** Longest wait for a connection, for headers, and between two body chunks. */
  idleTimeoutMs: number;
}

export class Network {
  readonly #agents = new Map<string, Agent>();
  readonly #o: NetworkOptions;

  constructor(options: NetworkOptions) {
    this.#o = options;
  }

  /** The pool for a trust setting: no extra CA, or these PEM CAs on top of the system's. */
  async dispatcher(ca: readonly string[] | undefined): Promise<Agent> {
    const key = ca && ca.length > 0 ? ca.join('\n') : '';
    let agent = this.#agents.get(key);
    if (!agent) {
      const { Agent } = await import('undici');
      agent = this.#agents.get(key);
      if (agent) return agent;
      agent = new Agent({
        connections: 16,
        keepAliveTimeout: 30_000,
        connectTimeout: this.#o.idleTimeoutMs,
        headersTimeout: this.#o.idleTimeoutMs,
        bodyTimeout: this.#o.idleTimeoutMs,
        // A `ca` option replaces Node's trust store; certs.d adds to it, as in dockerd.
        ...(key ? { connect: { ca: [...rootCertificates, ...(ca ?? [])] } } : {}),
      });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  get userAgent(): string {
    return this.#o.userAgent;
  }

  readonly roundTrip: RoundTrip = async (exchange) => {
    const { url, method } = exchange;
    const response = await (await this.dispatcher(exchange.endpoint.ca))
      .request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers: { 'user-agent': this.#o.userAgent, ...exchange.headers },
        body: exchange.body,
        signal: exchange.signal,
      })
      .catch((error: unknown) => {
        throw exchange.signal?.aborted ? error : new RegistryConnectionError(method, url, error);
      });
    return Object.assign(response, { url, authorization: undefined });
  };

  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((a) => a.close()));
    this.#agents.clear();
  }
}
