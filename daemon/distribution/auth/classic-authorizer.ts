// Classic mode (no clientAuth): the daemon negotiates itself from X-Registry-Auth, as dockerd does: Basic after a
// Basic challenge, Bearer tokens from the challenge's realm (GET with Basic, OAuth refresh with an identity token),
// registrytoken as-is. Credentials go only to the host they were given for; other hosts get anonymous tokens.

import { createHash } from 'node:crypto';
import type { AuthConfig } from '../../../api-spec/auth-config.ts';
import {
  bearerParams,
  checkRealm,
  fetchToken,
  mergeScopes,
  parseScope,
  parseWwwAuthenticate,
  type Scope,
  scopeKey,
  type TokenCache,
  type TokenCredential,
} from '../../../protocol/index.ts';
import { RegistryUnauthorizedError } from '../errors.ts';
import type { Authorizer, AuthRequest } from './authorizer.ts';
import type { ChallengeMemory, HostChallenge } from './challenge-memory.ts';
import { basicCredentials, basicHeader } from './credentials.ts';

export interface ClassicAuthorizerOptions {
  auth: AuthConfig;
  credentialHost: string;
  memory: ChallengeMemory;
  /** Daemon-wide, so a second pull within a token's life costs no 401 and no token request. */
  tokens: TokenCache;
  clientId: string;
  /** docker login: ask for an offline token and report the refresh token the token server issues. */
  login?: { onRefreshToken(token: string): void };
}

export class ClassicAuthorizer implements Authorizer {
  readonly #o: ClassicAuthorizerOptions;
  /** Keys the cache by who asked, so one client's token never serves another client's request. */
  readonly #identity: string;

  constructor(options: ClassicAuthorizerOptions) {
    this.#o = options;
    this.#identity = identityOf(options.auth);
  }

  async authorization(request: AuthRequest): Promise<string | undefined> {
    const host = request.endpoint.host;
    const mine = host === this.#o.credentialHost;
    if (mine && this.#o.auth.registrytoken) return `Bearer ${this.#o.auth.registrytoken}`;
    const seen = this.#o.memory.get(host);
    if (seen?.scheme === 'basic') {
      const basic = mine ? basicCredentials(this.#o.auth) : undefined;
      return basic ? basicHeader(basic) : undefined;
    }
    if (seen?.scheme === 'bearer') return `Bearer ${await this.#token(request, seen, request.scopes)}`;
    return undefined;
  }

  async challenged(request: AuthRequest, lines: string[]): Promise<void> {
    const host = request.endpoint.host;
    const challenges = parseWwwAuthenticate(lines);
    const bearer = bearerParams(challenges);
    if (bearer) {
      const seen: HostChallenge = {
        scheme: 'bearer',
        realm: bearer.realm,
        service: bearer.service,
        scopes: bearer.scope ?? [],
      };
      this.#o.memory.set(host, seen);
      // Registries may name another repository or more actions than the request needs (Artifactory, nvcr.io):
      // ask for both, and file the token under the request's own scope too, so the next request finds it.
      const wanted = mergeScopes(request.scopes, parseScopes(bearer.scope ?? []));
      if (bearer.error === 'invalid_token' || bearer.error === 'insufficient_scope') {
        this.#o.tokens.invalidate(this.#key(host, seen, request.scopes));
        this.#o.tokens.invalidate(this.#key(host, seen, wanted));
      }
      await this.#token(request, seen, wanted);
      this.#o.tokens.alias(this.#key(host, seen, request.scopes), this.#key(host, seen, wanted));
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const basic = host === this.#o.credentialHost ? basicCredentials(this.#o.auth) : undefined;
      if (!basic) {
        throw new RegistryUnauthorizedError(host, request.repository, lines, 'no basic auth credentials');
      }
      this.#o.memory.set(host, { scheme: 'basic' });
      return;
    }
    throw new RegistryUnauthorizedError(
      host,
      request.repository,
      lines,
      'unauthorized: authentication required',
    );
  }

  #key(host: string, seen: Extract<HostChallenge, { scheme: 'bearer' }>, scopes: Scope[]): string {
    return [host, seen.realm, seen.service ?? '', scopeKey(scopes), this.#identity].join('|');
  }

  async #token(
    request: AuthRequest,
    seen: Extract<HostChallenge, { scheme: 'bearer' }>,
    scopes: Scope[],
  ): Promise<string> {
    const host = request.endpoint.host;
    const realm = checkRealm(seen.realm, { host, secure: request.endpoint.secure });
    const credential =
      host === this.#o.credentialHost ? credentialOf(this.#o.auth) : { kind: 'anonymous' as const };
    const entry = await this.#o.tokens.get(this.#key(host, seen, scopes), () =>
      fetchToken({
        realm,
        ...(seen.service !== undefined ? { service: seen.service } : {}),
        scopes,
        credential,
        clientId: this.#o.clientId,
        ...(this.#o.login ? { offline: true } : {}),
        // No caller's signal: concurrent requests share this fetch, and one client leaving must not fail the rest.
      }).then((response) => {
        if (response.refreshToken && this.#o.login) this.#o.login.onRefreshToken(response.refreshToken);
        return response;
      }),
    );
    return entry.token;
  }
}

function credentialOf(auth: AuthConfig): TokenCredential {
  if (auth.identitytoken) return { kind: 'refresh', refreshToken: auth.identitytoken };
  const basic = basicCredentials(auth);
  return basic ? { kind: 'basic', ...basic } : { kind: 'anonymous' };
}

function identityOf(auth: AuthConfig): string {
  const basic = basicCredentials(auth);
  const material = auth.identitytoken ?? (basic ? `${basic.username}:${basic.password}` : '');
  return material === '' ? 'anonymous' : createHash('sha256').update(material).digest('hex').slice(0, 16);
}

/** Challenge scopes are untrusted: skip what does not parse rather than fail the request over it. */
function parseScopes(values: string[]): Scope[] {
  const out: Scope[] = [];
  for (const v of values) {
    try {
      out.push(parseScope(v));
    } catch {
      // An unparsable scope from the registry adds nothing we could ask for.
    }
  }
  return out;
}
