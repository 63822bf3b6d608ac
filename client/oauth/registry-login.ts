// Signing in to a token registry with OAuth, keeping only what OAuth yields (never a password):
// 1. probe the registry (GET /v2/): its Bearer challenge names the realm and service;
// 2. look up RFC 8414 metadata at the realm's origin (or at the issuer given);
// 3. with a device_authorization_endpoint: the device authorization grant (RFC 8628, device-authorization.ts);
// 4. without: the password grant with access_type=offline (`login`), if the caller can supply a password;
// 5. store the refresh token, with the access token and its expiry, under the registry's key.

import type { Dispatcher } from 'undici';
import { bearerParams, checkRealm, parseWwwAuthenticate } from '../../protocol/index.ts';
import { RegistryLoginError } from '../errors.ts';
import { login } from '../handlers/login.ts';
import { probeRegistry } from '../handlers/registry-probe.ts';
import type { BasicCredentials } from '../handlers/token.ts';
import { createMemoryTokenStore } from '../stores/memory.ts';
import type { TokenStore } from '../stores/token-store.ts';
import { type DevicePrompt, deviceLogin } from './device-authorization.ts';
import { discoverAuthorizationServer } from './metadata.ts';

export interface OAuthLoginOptions {
  registry: string;
  clientId: string;
  store: TokenStore;
  /** The authorization server to ask for metadata; default the origin of the registry's token realm. */
  issuer?: URL;
  onPrompt: (prompt: DevicePrompt) => void;
  /** For servers without the device grant: the username and password for the password grant. */
  passwordFallback?: () => Promise<BasicCredentials>;
  insecureRegistries?: string[];
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  /** For tests: the device flow's waits and clock. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export interface OAuthLoginResult {
  registry: string;
  grant: 'device_code' | 'password';
}

export async function oauthLogin(options: OAuthLoginOptions): Promise<OAuthLoginResult> {
  const probe = await probeRegistry(options.registry, options);
  const bearer = probe.status === 401 ? bearerParams(parseWwwAuthenticate(probe.challenges)) : undefined;
  if (bearer === undefined) {
    throw new RegistryLoginError(
      probe.key,
      probe.status,
      `registry ${probe.host} does not use token authentication (GET /v2/ answered ${probe.status}${
        probe.challenges.length > 0 ? ` with ${probe.challenges.join(', ')}` : ''
      }): log in with a username instead`,
    );
  }
  const endpoint = { host: probe.host, secure: !probe.plainHttp };
  const realm = checkRealm(bearer.realm, endpoint);
  const common = {
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const metadata = await discoverAuthorizationServer(options.issuer ?? new URL(realm.origin), {
    registry: endpoint,
    ...common,
  });
  if (metadata?.deviceAuthorizationEndpoint !== undefined) {
    const token = await deviceLogin({
      deviceAuthorizationEndpoint: metadata.deviceAuthorizationEndpoint,
      tokenEndpoint: metadata.tokenEndpoint,
      clientId: options.clientId,
      onPrompt: options.onPrompt,
      registryHost: probe.host,
      ...(bearer.service ? { service: bearer.service } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...common,
    });
    if (token.refreshToken === undefined) {
      throw new RegistryLoginError(
        probe.key,
        200,
        `the token server of ${probe.host} issued no refresh token`,
      );
    }
    const entry = {
      refreshToken: token.refreshToken,
      accessToken: token.token,
      expiresAt: token.expiresAt.getTime(),
    };
    await options.store.withLock(probe.key, () => options.store.set(probe.key, entry));
    return { registry: probe.key, grant: 'device_code' };
  }
  if (options.passwordFallback === undefined) {
    throw new RegistryLoginError(
      probe.key,
      undefined,
      `the authorization server of ${probe.host} offers no device login, and no password was given`,
    );
  }
  const credentials = await options.passwordFallback();
  // The password grant goes through `login`, into a scratch store: only a refresh token may be kept.
  const scratch = createMemoryTokenStore();
  const result = await login({
    registry: options.registry,
    ...credentials,
    store: scratch,
    clientId: options.clientId,
    ...common,
  });
  const refreshToken = (await scratch.get(result.registry))?.refreshToken;
  if (refreshToken === undefined) {
    throw new RegistryLoginError(
      probe.key,
      undefined,
      `the token server of ${probe.host} issued no refresh token`,
    );
  }
  await options.store.withLock(probe.key, () =>
    options.store.set(probe.key, { username: credentials.username, refreshToken }),
  );
  return { registry: probe.key, grant: 'password' };
}
