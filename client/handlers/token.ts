// A challenge handler that does the registry token dance on the client: for a Bearer challenge it fetches a
// token from the realm (GET with Basic from the credential source, or anonymous) and answers it as the
// `registrytoken` of the challenged host; for a Basic challenge it answers that host's username and password.

import type { Dispatcher } from 'undici';
import type { AuthConfig } from '../../api-spec/index.ts';
import { fetchToken, TokenCache, type TokenCredential, tokenCacheKey } from '../../protocol/index.ts';
import type { AsyncChallengeHandler, AuthChallenge } from '../challenge.ts';
import type { TokenStore } from '../stores/token-store.ts';
import { answerOf } from './answer.ts';
import { bearerTarget, type RealmOptions } from './bearer-target.ts';

export interface BasicCredentials {
  username: string;
  password: string;
}

/** Where credentials come from, per registry host (`host[:port]` as the daemon reached it). */
export type CredentialSource = (host: string) => Promise<BasicCredentials | undefined>;

export interface TokenChallengeHandlerOptions extends RealmOptions {
  /** Without it, or when it has nothing for the host, tokens are fetched anonymously. */
  credentials?: CredentialSource;
  clientId?: string;
  /** For tests and proxies: the undici dispatcher the token requests go through. */
  dispatcher?: Dispatcher;
}

export function createTokenChallengeHandler(
  options: TokenChallengeHandlerOptions = {},
): AsyncChallengeHandler {
  // Tokens are reused across operations until shortly before they expire.
  const cache = new TokenCache();
  return async (challenge: AuthChallenge): Promise<AuthConfig | undefined> => {
    const target = bearerTarget(challenge, options);
    if (target !== undefined) {
      const found = await options.credentials?.(challenge.registry);
      const credential: TokenCredential = found ? { kind: 'basic', ...found } : { kind: 'anonymous' };
      const key = tokenCacheKey({
        realm: target.realm,
        service: target.service,
        scopes: target.scopes,
        credential,
      });
      // Challenged again after an answer: the token we gave did not do, so do not give it again; a renewal asks
      // for one that outlives it.
      if (challenge.attempt > 1 || target.error !== undefined || challenge.renewal === true) {
        cache.invalidate(key);
      }
      const token = await cache.get(key, () =>
        fetchToken({
          realm: target.realm,
          service: target.service,
          scopes: target.scopes,
          credential,
          ...(options.clientId ? { clientId: options.clientId } : {}),
          registryHost: challenge.registry,
          ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        }),
      );
      return answerOf(challenge.registry, token);
    }
    if (challenge.challenges.some((c) => c.scheme === 'basic')) {
      const found = await options.credentials?.(challenge.registry);
      return found
        ? { serveraddress: challenge.registry, username: found.username, password: found.password }
        : undefined;
    }
    return undefined;
  };
}

/** A credential source reading username and password from a token store (docker config.json, for example). */
export function credentialsFromStore(store: TokenStore): CredentialSource {
  return async (host) => {
    const entry = await store.get(host);
    return entry?.username !== undefined && entry.password !== undefined
      ? { username: entry.username, password: entry.password }
      : undefined;
  };
}
