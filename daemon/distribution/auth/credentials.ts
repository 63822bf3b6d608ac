// Which registry host an AuthConfig's credentials belong to. Credentials are matched by host, never sent elsewhere.

import type { AuthConfig } from '../../../api-spec/auth-config.ts';
import { registryHostKey, registryHostOf } from '../../../protocol/index.ts';

/**
 * serveraddress may be "host:port", "https://host:port/v1/" or Hub's "https://index.docker.io/v1/"; when absent,
 * the credentials are for the reference's own registry (docker-py sends none).
 */
export function credentialHost(auth: AuthConfig, referenceDomain: string): string {
  const address = auth.serveraddress?.trim();
  return registryHostOf(address ? registryHostKey(address) : referenceDomain);
}

/** username/password from the explicit fields or from config.json's "auth" (base64 "user:pass"). */
export function basicCredentials(auth: AuthConfig): { username: string; password: string } | undefined {
  if (auth.username && auth.password) return { username: auth.username, password: auth.password };
  if (auth.auth) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

/** The Authorization a bearer token goes in; a refused request's header is compared with it, so one format. */
export function bearerHeader(token: string): string {
  return `Bearer ${token}`;
}

export function basicHeader(credentials: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/**
 * The credentials after the API client answered a challenge of `host` mid-operation: bearer tokens accumulate per
 * host (the answer's host is its serveraddress, else the challenger); Basic credentials replace the caller's only
 * for the host they were given for.
 */
export function withAnswer(
  current: AuthConfig,
  credentialHostName: string,
  host: string,
  answer: AuthConfig,
): AuthConfig {
  const target = answer.serveraddress ? credentialHost(answer, host) : host;
  const registrytokens = { ...current.registrytokens, ...answer.registrytokens };
  if (answer.registrytoken) registrytokens[target] = answer.registrytoken;
  const basic = basicCredentials(answer);
  return {
    ...current,
    ...(basic && target === credentialHostName ? { username: basic.username, password: basic.password } : {}),
    registrytokens,
  };
}
