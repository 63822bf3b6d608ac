// Where a frontend finds credentials for a challenged registry host, in order (what `dockhand` uses):
// 1. the OAuth token store (a refresh token from a device or password login): refreshed with rotation, the
//    rotated token stored before the retry, single-flight across processes (createOAuthChallengeHandler);
// 2. docker's config.json (`auths`, `credsStore`, `credHelpers`): an identity token is refreshed the same way;
//    a username and password fetch a token from the realm, or answer a Basic challenge of that host only;
// 3. nothing stored: an anonymous token for a Bearer challenge; a Basic challenge is declined.

import type { Dispatcher } from 'undici';
import type { AuthConfig } from '../../api-spec/index.ts';
import type { AsyncChallengeHandler, AuthChallenge } from '../challenge.ts';
import type { TokenStore } from '../stores/token-store.ts';
import type { RealmOptions } from './bearer-target.ts';
import { createOAuthChallengeHandler } from './oauth.ts';
import { createTokenChallengeHandler, credentialsFromStore } from './token.ts';

export interface CredentialChainOptions extends RealmOptions {
  /** The OAuth token store (createFileTokenStore). */
  tokenStore: TokenStore;
  /** docker's config.json and its helpers (createDockerConfigStore). */
  dockerConfig: TokenStore;
  clientId: string;
  dispatcher?: Dispatcher;
}

export function createCredentialChainHandler(options: CredentialChainOptions): AsyncChallengeHandler {
  const { tokenStore, dockerConfig, ...common } = options;
  const fromTokenStore = createOAuthChallengeHandler({ ...common, store: tokenStore });
  const fromDockerIdentity = createOAuthChallengeHandler({ ...common, store: dockerConfig });
  const fromDockerPassword = createTokenChallengeHandler({
    ...common,
    credentials: credentialsFromStore(dockerConfig),
  });
  return async (challenge: AuthChallenge): Promise<AuthConfig | undefined> => {
    const bearer = challenge.challenges.some((c) => c.scheme === 'bearer');
    if (bearer && (await tokenStore.get(challenge.registry))?.refreshToken) return fromTokenStore(challenge);
    if (bearer && (await dockerConfig.get(challenge.registry))?.refreshToken) {
      return fromDockerIdentity(challenge);
    }
    return fromDockerPassword(challenge);
  };
}
