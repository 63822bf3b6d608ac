// The wire: keep-alive pools per origin (undici's Agent keeps one Pool per origin), one Agent per trust setting
// (the system's CAs plus certs.d's for the registry, as dockerd adds them), every request with the daemon's
// User-Agent, and connect, headers and body idle timeouts. A request a registry sent elsewhere (a redirect to
// another origin, a token realm) goes through an Agent of that registry's whose connections are held to the address
// policy on the address actually connected to (protocol/address-guard.ts). undici is loaded at the first registry
// request: an idle daemon that never pulled does not carry it. A request flagged `bulk` (a large blob body) goes
// over bulk-wire.ts instead, with the same User-Agent, trust, timeouts and address guard.

import type { LookupFunction } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Agent } from 'undici';
import {
  AddressRefusedError,
  connectGuard,
  GuardedAgents,
  type Resolver,
  screenedLookup,
  trustOptions,
} from '../../../protocol/index.ts';
import { RedirectRefusedError, RegistryConnectionError } from '../errors.ts';
import { bulkGet } from './bulk-wire.ts';
import type { Exchange, RegistryResponse, RoundTrip } from './round-trip.ts';

export interface NetworkOptions {
  userAgent: string;
  /** Longest wait for a connection, for headers, and between two body chunks. */
  idleTimeoutMs: number;
  /** How names become addresses; the system's resolver when absent (tests give their own). */
  resolve?: Resolver;
}

export class Network {
  readonly #agents = new Map<string, Agent>();
  readonly #secureContexts = new Map<string, SecureContext>();
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
    const key = ca?.join('\n') ?? '';
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
    const response = await (exchange.request.bulk && method === 'GET' && exchange.body === undefined
      ? this.#bulk(exchange)
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

  /** A blob body on a connection of its own, held to the same trust and address policy as the pools above. */
  #bulk(exchange: Exchange): Promise<Omit<RegistryResponse, 'url' | 'authorization'>> {
    const { url, endpoint } = exchange;
    let lookup = this.#lookup;
    if (url.origin !== endpoint.origin) {
      const guard = connectGuard(endpoint.host, this.#o.resolve);
      const refusal = guard.refuseLiteral(url.hostname);
      if (refusal) return Promise.reject(refusal);
      lookup = guard.lookup;
    }
    return bulkGet({
      url,
      headers: { 'user-agent': this.#o.userAgent, ...exchange.headers },
      secureContext: this.#secureContext(endpoint.ca),
      lookup,
      signal: exchange.signal,
      idleTimeoutMs: this.#o.idleTimeoutMs,
    });
  }

  /** A TLS context per trust setting: building one parses every root CA, too much for each blob's connection. */
  #secureContext(ca: readonly string[] | undefined): SecureContext | undefined {
    if (!ca || ca.length === 0) return undefined;
    const key = ca.join('\n');
    const context = this.#secureContexts.get(key) ?? createSecureContext(trustOptions(ca));
    this.#secureContexts.set(key, context);
    return context;
  }

  #pool() {
    return {
      connections: 16,
      keepAliveTimeout: 30_000,
      connectTimeout: this.#o.idleTimeoutMs,
      headersTimeout: this.#o.idleTimeoutMs,
      bodyTimeout: this.#o.idleTimeoutMs,
    };
  }

  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all([...agents.map((a) => a.close()), this.#guarded.close()]);
  }
}
