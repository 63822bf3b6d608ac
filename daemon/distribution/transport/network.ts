// The wire: keep-alive pools per origin (undici's Agent keeps one Pool per origin), one Agent per trust setting
// (the system's CAs plus certs.d's for the registry, as dockerd adds them), every request with the daemon's
// User-Agent, and connect, headers and body idle timeouts. A request a registry sent elsewhere (a redirect to
// another origin, a token realm) goes through an Agent of that registry's whose connections are held to the address
// policy on the address actually connected to (protocol/address-guard.ts). undici is loaded at the first registry
// request: an idle daemon that never pulled does not carry it.

import type { Agent } from 'undici';
import {
  AddressRefusedError,
  GuardedAgents,
  type Resolver,
  screenedLookup,
  trustOptions,
} from '../../../protocol/index.ts';
import { RedirectRefusedError, RegistryConnectionError } from '../errors.ts';
import type { RoundTrip } from './round-trip.ts';

export interface NetworkOptions {
  userAgent: string;
  /** Longest wait for a connection, for headers, and between two body chunks. */
  idleTimeoutMs: number;
  /** How names become addresses; the system's resolver when absent (tests give their own). */
  resolve?: Resolver;
}

export class Network {
  readonly #agents = new Map<string, Agent>();
  readonly #guarded: GuardedAgents;
  readonly #o: NetworkOptions;

  constructor(options: NetworkOptions) {
    this.#o = options;
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
    const resolve = this.#o.resolve;
    const connect = { ...trustOptions(ca), ...(resolve ? { lookup: screenedLookup(resolve) } : {}) };
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
    const dispatcher =
      url.origin === endpoint.origin
        ? await this.dispatcher(endpoint.ca)
        : await this.guardedDispatcher(endpoint.host, endpoint.ca);
    const response = await dispatcher
      .request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers: { 'user-agent': this.#o.userAgent, ...exchange.headers },
        body: exchange.body,
        signal: exchange.signal,
      })
      .catch((error: unknown) => {
        if (error instanceof AddressRefusedError) {
          throw new RedirectRefusedError(endpoint.host, url, error.message);
        }
        throw exchange.signal?.aborted ? error : new RegistryConnectionError(method, url, error);
      });
    return Object.assign(response, { url, authorization: undefined });
  };

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
