// The wire: keep-alive pools per origin (undici's Agent keeps one Pool per origin), one Agent per trust setting
// (the system's CAs plus certs.d's for the registry, as dockerd adds them), every request with the daemon's
// User-Agent, and connect, headers and body idle timeouts. A request a registry sent elsewhere (a redirect to
// another origin, a token realm) goes through an Agent of that registry's whose connections are held to the address
// policy on the address actually connected to (protocol/address-guard.ts). Requests without a body (GET, HEAD: all a
// pull sends to a registry, and GETs of tokens) go over http1-wire.ts instead, with the same User-Agent, trust,
// timeouts and address guard, on connections kept per origin and trust setting; undici is loaded at the first
// request with a body (a push, an OAuth token POST), so a daemon that only pulled does not carry it.

import type { LookupFunction } from 'node:net';
import type { Agent } from 'undici';
import {
  AddressRefusedError,
  connectGuard,
  GuardedAgents,
  type Resolver,
  SecureContexts,
  screenedLookup,
  trustKey,
  trustOptions,
} from '../../../protocol/index.ts';
import { threadRequest } from '../../blob-thread/remote-exchange.ts';
import { RedirectRefusedError, RegistryConnectionError } from '../errors.ts';
import {
  type WireConnection,
  type WireMethod,
  type WireRequest,
  type WireResponse,
  wireRequest,
} from './http1-wire.ts';
import type { Exchange, RegistryResponse, RoundTrip } from './round-trip.ts';
import { KEEP_ALIVE_MS, WirePool } from './wire-pool.ts';

export interface NetworkOptions {
  userAgent: string;
  /** Longest wait for a connection, for headers, and between two body chunks. */
  idleTimeoutMs: number;
  /** How names become addresses; the system's resolver when absent (tests give their own). */
  resolve?: Resolver;
}

export class Network {
  readonly #agents = new Map<string, Agent>();
  /** Kept connections, per trust setting (as #agents), then per origin. */
  readonly #pools = new Map<string, WirePool<WireConnection>>();
  readonly #secureContexts = new SecureContexts();
  readonly #guarded: GuardedAgents;
  readonly #o: NetworkOptions;
  /** How the registries' own names are looked up: the system's way, or through the test's resolver. */
  readonly #lookup: LookupFunction | undefined;

  constructor(options: NetworkOptions) {
    this.#o = options;
    this.#lookup = options.resolve ? screenedLookup(options.resolve) : undefined;
    this.#guarded = new GuardedAgents({
      pool: this.#pool(),
      connectTimeoutMs: options.idleTimeoutMs,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    });
  }

  /** The pool for a trust setting: no extra CA, or these PEM CAs on top of the system's. */
  async dispatcher(ca: readonly string[] | undefined): Promise<Agent> {
    const key = trustKey(ca);
    const found = this.#agents.get(key);
    if (found) return found;
    const { Agent } = await import('undici');
    const connect = { ...trustOptions(ca), ...(this.#lookup ? { lookup: this.#lookup } : {}) };
    const agent = this.#agents.get(key) ?? new Agent({ ...this.#pool(), connect });
    this.#agents.set(key, agent);
    return agent;
  }

  /**
   * The pool for requests `registryHost` sent elsewhere: its connections go only to addresses the address policy
   * allows for that registry, resolved once at connect time.
   */
  guardedDispatcher(registryHost: string, ca: readonly string[] | undefined): Promise<Agent> {
    return this.#guarded.get(registryHost, ca);
  }

  get userAgent(): string {
    return this.#o.userAgent;
  }

  readonly roundTrip: RoundTrip = async (exchange) => {
    const { url, method, endpoint } = exchange;
    const response = await ((method === 'GET' || method === 'HEAD') && exchange.body === undefined
      ? this.#wire(exchange, method)
      : this.#undici(exchange)
    ).catch((error: unknown) => {
      if (error instanceof AddressRefusedError) {
        throw new RedirectRefusedError(endpoint.host, url, error.message);
      }
      throw exchange.signal?.aborted ? error : new RegistryConnectionError(method, url, error);
    });
    return Object.assign(response, { url, authorization: undefined });
  };

  async #undici(exchange: Exchange): Promise<Omit<RegistryResponse, 'url' | 'authorization'>> {
    const { url, method, endpoint } = exchange;
    const dispatcher =
      url.origin === endpoint.origin
        ? await this.dispatcher(endpoint.ca)
        : await this.guardedDispatcher(endpoint.host, endpoint.ca);
    return dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method,
      headers: { 'user-agent': this.#o.userAgent, ...exchange.headers },
      body: exchange.body,
      signal: exchange.signal,
    });
  }

  /**
   * A request without a body, held to the same trust and address policy as the pools above. Connections to the
   * registry's own origin are kept; those to another (a redirect's) are made for the one request, through the guard.
   */
  #wire(exchange: Exchange, method: WireMethod): Promise<Omit<RegistryResponse, 'url' | 'authorization'>> {
    const { url, endpoint } = exchange;
    const headers = { 'user-agent': this.#o.userAgent, ...exchange.headers };
    const request = { method, url, headers, signal: exchange.signal, bulk: exchange.request.bulk === true };
    if (url.origin !== endpoint.origin) return this.guardedRequest(endpoint.host, endpoint.ca, request);
    if (request.bulk) return this.#bulk(request, endpoint.ca, this.#lookup);
    return wireRequest({
      ...request,
      pool: this.#poolFor(endpoint.ca),
      secureContext: this.#secureContexts.get(endpoint.ca),
      lookup: this.#lookup,
      idleTimeoutMs: this.#o.idleTimeoutMs,
    });
  }

  /**
   * A request without a body to where `registryHost` sent it (a redirect, a token realm), on a connection of its
   * own that goes only to an address the address policy allows for that registry.
   */
  guardedRequest(
    registryHost: string,
    ca: readonly string[] | undefined,
    request: Pick<WireRequest, 'method' | 'url' | 'headers' | 'signal' | 'bulk'>,
  ): Promise<WireResponse> {
    const guard = connectGuard(registryHost, this.#o.resolve);
    const refusal = guard.refuseLiteral(request.url.hostname);
    if (refusal) return Promise.reject(refusal);
    if (request.bulk) return this.#bulk(request, ca, guard.lookup);
    return wireRequest({
      ...request,
      secureContext: this.#secureContexts.get(ca),
      lookup: guard.lookup,
      idleTimeoutMs: this.#o.idleTimeoutMs,
    });
  }

  /** A large blob body: made, read and written to its file by the blob thread (blob-thread/thread.ts). */
  #bulk(
    request: Pick<WireRequest, 'method' | 'url' | 'headers' | 'signal'>,
    ca: readonly string[] | undefined,
    lookup: LookupFunction | undefined,
  ): Promise<WireResponse> {
    if (request.method !== 'GET') throw new Error(`a bulk request is a GET, not ${request.method}`);
    const { url, headers, signal } = request;
    return threadRequest({ url, headers, ca, lookup, signal, idleTimeoutMs: this.#o.idleTimeoutMs });
  }

  #poolFor(ca: readonly string[] | undefined): WirePool<WireConnection> {
    const key = trustKey(ca);
    const pool = this.#pools.get(key) ?? new WirePool<WireConnection>(KEEP_ALIVE_MS);
    this.#pools.set(key, pool);
    return pool;
  }

  #pool() {
    return {
      connections: 16,
      keepAliveTimeout: KEEP_ALIVE_MS,
      connectTimeout: this.#o.idleTimeoutMs,
      headersTimeout: this.#o.idleTimeoutMs,
      bodyTimeout: this.#o.idleTimeoutMs,
    };
  }

  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
    await Promise.all([...agents.map((a) => a.close()), this.#guarded.close()]);
  }
}
