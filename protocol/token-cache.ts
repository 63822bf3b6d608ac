// Bearer tokens cached by what they were fetched for: realm, service, the scope set, and which credential
// asked (so one user's token is never served to another). Concurrent requests for the same key share one
// fetch. An entry is refreshed a margin before it expires, so a token does not run out mid-request. The number
// of entries is bounded: past the bound, expired entries go first, then the least recently used.
//
// Aliases (oras-go#650): some registries challenge with a scope other than the one the request needs
// (Artifactory drops the repository prefix). The token fetched for the registry's scope is cached under its
// own key and aliased from the request's key, so the next such request finds it without another 401.
import { createHash } from 'node:crypto';
import { type ScopeInput, scopeKey } from './scope.ts';
import type { TokenCredential } from './token-client.ts';
import type { TokenResponse } from './token-response.ts';

export interface TokenCacheKeyParts {
  realm: URL | string;
  service?: string | undefined;
  scopes: readonly ScopeInput[];
  credential: TokenCredential;
}

function digestOf(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

/** Identifies a credential without holding it: keys may be logged, credentials may not. */
export function credentialFingerprint(credential: TokenCredential): string {
  switch (credential.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'basic':
      return `basic:${digestOf(credential.username, credential.password)}`;
    case 'refresh':
      return `refresh:${digestOf(credential.refreshToken)}`;
    case 'device':
      return `device:${digestOf(credential.deviceCode)}`;
  }
}

/** The cache key for a token: order of scopes, duplicate scopes and action order do not matter. */
export function tokenCacheKey(parts: TokenCacheKeyParts): string {
  let realm = String(parts.realm);
  try {
    realm = new URL(realm).href;
  } catch {
    // an unparsable realm is still a distinct key
  }
  return JSON.stringify([
    realm,
    parts.service ?? '',
    scopeKey(parts.scopes),
    credentialFingerprint(parts.credential),
  ]);
}

/** How long before expiry an entry is refreshed: 10% of its lifetime, at least 10 s, at most half. */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(Math.max(10_000, lifetimeMs * 0.1), lifetimeMs / 2);
}

export interface TokenCacheOptions {
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Above this many entries, expired ones and then the least recently used are dropped. */
  maxEntries?: number;
}

interface Entry {
  token: TokenResponse;
  refreshAt: number;
  expiresAt: number;
}

export class TokenCache {
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<TokenResponse>>();
  readonly #aliases = new Map<string, string>();

  constructor(options: TokenCacheOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 1000;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The cached token for `key` if it is not due for refresh; otherwise the result of `fetcher`, shared by
   * every caller that asks for the same key meanwhile. A failed refresh falls back to the old token while
   * it is still valid. Failures are not cached.
   */
  get(key: string, fetcher: () => Promise<TokenResponse>): Promise<TokenResponse> {
    const target = this.#resolve(key);
    const entry = this.#entries.get(target);
    if (entry && this.#now() < entry.refreshAt) return Promise.resolve(this.#touch(target, entry));
    const pending = this.#inflight.get(target);
    if (pending) return pending;
    const fetched: Promise<TokenResponse> = Promise.resolve()
      .then(fetcher)
      .then(
        (token) => {
          this.set(target, token);
          return token;
        },
        (error: unknown) => {
          if (entry && this.#entries.get(target) === entry && this.#now() < entry.expiresAt)
            return entry.token;
          throw error;
        },
      )
      .finally(() => {
        if (this.#inflight.get(target) === fetched) this.#inflight.delete(target);
      });
    this.#inflight.set(target, fetched);
    return fetched;
  }

  /** The token for `key` if it is not due for refresh. */
  peek(key: string): TokenResponse | undefined {
    const target = this.#resolve(key);
    const entry = this.#entries.get(target);
    return entry && this.#now() < entry.refreshAt ? this.#touch(target, entry) : undefined;
  }

  // Map order is use order: a hit moves its entry to the end, so eviction drops the least recently used.
  #touch(key: string, entry: Entry): TokenResponse {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.token;
  }

  set(key: string, token: TokenResponse): void {
    const now = this.#now();
    const lifetimeMs = token.expiresIn * 1000;
    // A token already expired on arrival means the server clock is behind ours: count from receipt instead.
    const expiresAt = token.expiresAt.getTime() > now ? token.expiresAt.getTime() : now + lifetimeMs;
    this.#entries.delete(key);
    this.#entries.set(key, { token, expiresAt, refreshAt: expiresAt - refreshMarginMs(lifetimeMs) });
    this.#evict(now);
  }

  /** Drops the token behind `key` (after a registry refused it), and every alias of it. */
  invalidate(key: string): void {
    const target = this.#aliases.get(key) ?? key;
    this.#entries.delete(key);
    this.#entries.delete(target);
    this.#aliases.delete(key);
    for (const [from, to] of this.#aliases) if (to === target) this.#aliases.delete(from);
  }

  /** Lets `requestKey` find the token stored under `entryKey` while that token is fresh. */
  alias(requestKey: string, entryKey: string): void {
    if (requestKey === entryKey) return;
    this.#entries.delete(requestKey);
    this.#aliases.set(requestKey, entryKey);
  }

  // An alias only stands while its target is fresh; then the request's own key is used again.
  #resolve(key: string): string {
    const target = this.#aliases.get(key);
    if (target === undefined) return key;
    const entry = this.#entries.get(target);
    if (entry && this.#now() < entry.refreshAt) return target;
    this.#aliases.delete(key);
    return key;
  }

  #evict(now: number): void {
    if (this.#entries.size <= this.#maxEntries) return;
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(key);
    }
    for (const [from, to] of this.#aliases) if (!this.#entries.has(to)) this.#aliases.delete(from);
  }
}
