// Signing in to a registry from the client, as `docker login` does, and keeping what it yields in a store:
// 1. GET /v2/ on the registry: its 401 names the auth scheme (and for Bearer the realm and service);
// 2. Bearer: the OAuth2 password grant with access_type=offline (falling back to GET with offline_token=true
//    for token servers without OAuth2), and the refresh token is stored like docker's identity token;
// 3. Basic (or a token server that issues no refresh token): the username and password are checked and stored;
// 4. /v2/ open to all (200): nothing to check, the credentials are stored as docker does.

import type { Dispatcher } from 'undici';
import {
  basicRealm,
  bearerParams,
  checkRealm,
  fetchToken,
  parseWwwAuthenticate,
} from '../../protocol/index.ts';
import { RegistryLoginError } from '../errors.ts';
import type { TokenStore } from '../stores/token-store.ts';
import { probeRegistry } from './registry-probe.ts';

export interface RegistryLoginOptions {
  /** `host[:port]`, `docker.io`, or docker's `https://index.docker.io/v1/`. */
  registry: string;
  username: string;
  password: string;
  store: TokenStore;
  clientId: string;
  /** Registries spoken to over plain http (loopback ones are, unlisted). */
  insecureRegistries?: string[];
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
}

export interface RegistryLoginResult {
  /** The store key the credentials were saved under (`docker.io` for Docker Hub). */
  registry: string;
  status: 'Login Succeeded';
  /** True when a refresh token was stored (no password kept); false when the password was. */
  identityToken: boolean;
}

export async function login(options: RegistryLoginOptions): Promise<RegistryLoginResult> {
  const probe = await probeRegistry(options.registry, options);
  const { key, host, plainHttp } = probe;
  if (probe.status === 200) return saveBasic(key, options);
  if (probe.status !== 401) {
    throw new RegistryLoginError(key, probe.status, `registry ${host} answered ${probe.status} to GET /v2/`);
  }
  const challenges = parseWwwAuthenticate(probe.challenges);
  const bearer = bearerParams(challenges);
  if (bearer !== undefined) {
    const token = await fetchToken({
      realm: checkRealm(bearer.realm, { host, secure: !plainHttp }),
      service: bearer.service,
      scopes: [],
      credential: { kind: 'basic', username: options.username, password: options.password },
      offline: true,
      clientId: options.clientId,
      registryHost: host,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (token.refreshToken === undefined) return saveBasic(key, options);
    const refreshToken = token.refreshToken;
    await options.store.withLock(key, () =>
      options.store.set(key, { username: options.username, refreshToken }),
    );
    return { registry: key, status: 'Login Succeeded', identityToken: true };
  }
  if (basicRealm(challenges) !== undefined) {
    const authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    const checked = await probeRegistry(options.registry, options, authorization);
    if (checked.status !== 200) {
      throw new RegistryLoginError(key, checked.status, `registry ${host} refused the username or password`);
    }
    return saveBasic(key, options);
  }
  throw new RegistryLoginError(
    key,
    401,
    `registry ${host} asked for an auth scheme this client does not speak`,
  );
}

async function saveBasic(key: string, options: RegistryLoginOptions): Promise<RegistryLoginResult> {
  const { username, password } = options;
  await options.store.withLock(key, () => options.store.set(key, { username, password }));
  return { registry: key, status: 'Login Succeeded', identityToken: false };
}
