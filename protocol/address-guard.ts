// The realm policy's address classes, enforced where a connection is made. Checking a name before the request is
// not enough: undici resolves it again when it connects, and a name that answers a public address to the check and
// 169.254.169.254 or 127.0.0.1 to the connection (DNS rebinding, TTL 0) would pass. Here the name is resolved once,
// inside the connect, every address connectRefusal refuses is dropped, and the socket goes only to one that is left;
// when none is left the connect fails with AddressRefusedError and no byte is sent.

import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { Agent, buildConnector } from 'undici';
import { AddressRefusedError } from './errors.ts';
import { connectRefusal } from './realm-policy.ts';
import { bareHostname } from './registry-host.ts';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** How a name becomes addresses: the system's resolver, or a test's. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true });

type Screen = (hostname: string, address: string) => { class: string; message: string } | undefined;

/** net.connect's `lookup`: one resolution by `resolve`, the addresses `screen` refuses dropped. */
export function screenedLookup(resolve: Resolver, screen: Screen = () => undefined): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (found) => {
        const wanted = found.filter((a) => !options.family || a.family === options.family);
        const allowed = wanted.filter((a) => screen(hostname, a.address) === undefined);
        const first = allowed[0];
        if (first === undefined) {
          const refusal = wanted[0] && screen(hostname, wanted[0].address);
          const notFound = Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
          return callback(refusal ? refused(hostname, refusal) : notFound, '', 0);
        }
        if (options.all) return (callback as (e: null, a: ResolvedAddress[]) => void)(null, allowed);
        callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

function refused(hostname: string, refusal: { class: string; message: string }): AddressRefusedError {
  return new AddressRefusedError(
    hostname,
    refusal.class,
    isIP(hostname) !== 0 ? refusal.message : `${refusal.message} (the address ${hostname} resolved to)`,
  );
}

/** How a connection to a target `registryHost` named is held to the address policy. */
export interface ConnectGuard {
  /** net.connect's `lookup`: one resolution, the refused addresses dropped. */
  lookup: LookupFunction;
  /** The refusal of an IP literal, which net.connect does not look up; undefined for a name or an allowed address. */
  refuseLiteral(hostname: string): AddressRefusedError | undefined;
}

export function connectGuard(registryHost: string, resolve: Resolver = systemResolver): ConnectGuard {
  const screen: Screen = (hostname, address) => connectRefusal(hostname, address, registryHost);
  return {
    lookup: screenedLookup(resolve, screen),
    refuseLiteral(hostname) {
      const bare = bareHostname(hostname);
      const refusal = isIP(bare) !== 0 ? screen(bare, bare) : undefined;
      return refusal ? refused(bare, refusal) : undefined;
    },
  };
}

/** undici's connector for requests a registry sent us on (redirect targets, token realms), held by connectGuard. */
export async function guardedConnector(
  registryHost: string,
  options: buildConnector.BuildOptions,
  resolve: Resolver = systemResolver,
): Promise<buildConnector.connector> {
  const { buildConnector } = await import('undici');
  const guard = connectGuard(registryHost, resolve);
  const connect = buildConnector({ ...options, lookup: guard.lookup });
  return (target, callback) => {
    const refusal = guard.refuseLiteral(target.hostname);
    if (refusal) return callback(refusal, null);
    return connect(target, callback);
  };
}

/** Connection options for a trust setting: these PEM CAs on top of the system's (a `ca` option replaces them). */
export function trustOptions(ca: readonly string[] | undefined): { ca?: string[] } {
  return ca && ca.length > 0 ? { ca: [...rootCertificates, ...ca] } : {};
}

/** The key of a trust setting: its PEM CAs on top of the system's, none for the system's alone. */
export const trustKey = (ca: readonly string[] | undefined): string => ca?.join('\n') ?? '';

/** TLS contexts, one per trust setting, built once: building one parses every root CA, too much per connection. */
export class SecureContexts {
  readonly #byKey = new Map<string, SecureContext>();

  /** The context for `ca` on top of the system's CAs; none (node's default) for the system's alone. */
  get(ca: readonly string[] | undefined): SecureContext | undefined {
    if (!ca || ca.length === 0) return undefined;
    const key = trustKey(ca);
    const context = this.#byKey.get(key) ?? createSecureContext(trustOptions(ca));
    this.#byKey.set(key, context);
    return context;
  }
}

export interface GuardedAgentsOptions {
  /** undici Agent options of every pool (connections, keep-alive, header and body timeouts). */
  pool?: Agent.Options;
  /** Longest wait for a connection. */
  connectTimeoutMs?: number;
  resolve?: Resolver;
  /** Registries whose Agent is kept; the least recently used beyond this is closed. */
  max?: number;
}

/** One guarded undici Agent per registry (and trust setting), for the requests that registry sends elsewhere. */
export class GuardedAgents {
  readonly #agents = new Map<string, Agent>();
  readonly #o: GuardedAgentsOptions;

  constructor(options: GuardedAgentsOptions = {}) {
    this.#o = options;
  }

  async get(registryHost: string, ca?: readonly string[]): Promise<Agent> {
    const key = `${registryHost}\n${ca?.join('\n') ?? ''}`;
    const found = this.#agents.get(key);
    if (found) {
      this.#agents.delete(key);
      this.#agents.set(key, found);
      return found;
    }
    const { Agent } = await import('undici');
    const connect = await guardedConnector(
      registryHost,
      { ...trustOptions(ca), ...(this.#o.connectTimeoutMs ? { timeout: this.#o.connectTimeoutMs } : {}) },
      this.#o.resolve,
    );
    const agent = this.#agents.get(key) ?? new Agent({ ...this.#o.pool, connect });
    this.#agents.set(key, agent);
    for (const [oldest, evicted] of this.#agents) {
      if (this.#agents.size <= (this.#o.max ?? 32)) break;
      this.#agents.delete(oldest);
      // Requests in flight finish first: close() only stops new ones.
      void evicted.close().catch(() => {});
    }
    return agent;
  }

  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((a) => a.close()));
  }
}

const shared = new GuardedAgents();

/**
 * The process's guarded pool for requests to what `registryHost` named (its token realm, its authorization server),
 * for callers that bring no network of their own (the SDK). The daemon keeps its own, with its trust and timeouts.
 */
export function realmDispatcher(registryHost: string): Promise<Agent> {
  return shared.get(registryHost);
}
