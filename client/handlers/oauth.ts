// A challenge handler for registries that issue OAuth2 refresh tokens (what `login` stores):
// 1. a Bearer challenge names realm, service and scope; a fresh access token cached for those is answered as is;
// 2. otherwise take the store's lock for the host (in-process and across processes) and RE-READ the entry: another
//    holder may have rotated the refresh token meanwhile, and left the access token it got for the same realm,
//    service and scope, which is used as is while it lasts (one refresh for processes that start together);
// 3. else POST grant_type=refresh_token to the realm, and persist the rotated refresh token (with the access token)
//    BEFORE answering, so the retry never races a crash into a lost token;
// 4. answer the access token as the host's `registrytoken`. Without a refresh token the stored username and
//    password are used (GET with Basic), and without those an anonymous token is fetched.

import type { Dispatcher } from 'undici';
import type { AuthConfig } from '../../api-spec/index.ts';
import {
  fetchToken,
  scopeKey,
  TokenCache,
  type TokenCredential,
  type TokenResponse,
  tokenEndsAt,
} from '../../protocol/index.ts';
import type { AsyncChallengeHandler, AuthChallenge } from '../challenge.ts';
import type { TokenEntry, TokenStore } from '../stores/token-store.ts';
import { answerOf } from './answer.ts';
import { type BearerTarget, bearerTarget, type RealmOptions } from './bearer-target.ts';

export interface OAuthChallengeHandlerOptions extends RealmOptions {
  store: TokenStore;
  clientId: string;
  /** For tests and proxies: the undici dispatcher the token requests go through. */
  dispatcher?: Dispatcher;
  /** Clock in ms since the epoch, for the access-token cache. */
  now?: () => number;
}

export function createOAuthChallengeHandler(options: OAuthChallengeHandlerOptions): AsyncChallengeHandler {
  // Access tokens by host, realm, service and scope; concurrent challenges for one key share one refresh.
  const cache = new TokenCache(options.now ? { now: options.now } : {});
  return async (challenge: AuthChallenge): Promise<AuthConfig | undefined> => {
    const target = bearerTarget(challenge, options);
    if (target === undefined) return undefined;
    const host = challenge.registry;
    const key = JSON.stringify([host, target.realm.href, target.service ?? '', scopeKey(target.scopes)]);
    // A second challenge, or one naming an error, means the registry refused the token we had, and a renewal asks
    // for one that outlives it: fetch a new one.
    const refused = challenge.attempt > 1 || target.error !== undefined || challenge.renewal === true;
    if (refused) cache.invalidate(key);
    const token = await cache.get(key, () =>
      options.store.withLock(host, () => refresh(host, key, target, options, !refused)),
    );
    return answerOf(host, token);
  };
}

async function refresh(
  host: string,
  key: string,
  target: BearerTarget,
  options: OAuthChallengeHandlerOptions,
  reuseStored: boolean,
): Promise<TokenResponse> {
  // Read under the lock: the refresh token seen before waiting may already be spent by another process.
  const entry = await options.store.get(host);
  const now = (options.now ?? Date.now)();
  const stored = reuseStored ? storedAccessToken(entry, key, now) : undefined;
  if (stored !== undefined) return stored;
  const credential = credentialOf(entry);
  // A spent or revoked refresh token fails with InvalidGrantError ("… log in again"); the entry is left as it is.
  const response = await fetchToken({
    realm: target.realm,
    service: target.service,
    scopes: target.scopes,
    credential,
    clientId: options.clientId,
    registryHost: host,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  if (entry?.refreshToken && response.refreshToken && response.refreshToken !== entry.refreshToken) {
    await options.store.set(host, {
      ...entry,
      refreshToken: response.refreshToken,
      accessToken: response.token,
      accessTokenFor: key,
      expiresAt: tokenEndsAt(response),
    });
  }
  return response;
}

// Left to another process, a token must still outlast the retry it answers.
const SHARED_TOKEN_MIN_REMAINING_MS = 10_000;

/** The access token the entry holds for `key`, if it has this much life left. */
function storedAccessToken(
  entry: TokenEntry | undefined,
  key: string,
  now: number,
): TokenResponse | undefined {
  if (entry?.accessToken === undefined || entry.accessTokenFor !== key || entry.expiresAt === undefined) {
    return undefined;
  }
  const remainingMs = entry.expiresAt - now;
  if (remainingMs < SHARED_TOKEN_MIN_REMAINING_MS) return undefined;
  return {
    token: entry.accessToken,
    expiresIn: Math.floor(remainingMs / 1000),
    issuedAt: new Date(now),
    expiresAt: new Date(entry.expiresAt),
  };
}

function credentialOf(entry: TokenEntry | undefined): TokenCredential {
  if (entry?.refreshToken) return { kind: 'refresh', refreshToken: entry.refreshToken };
  if (entry?.username !== undefined && entry.password !== undefined) {
    return { kind: 'basic', username: entry.username, password: entry.password };
  }
  return { kind: 'anonymous' };
}
