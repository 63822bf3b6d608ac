// Classic mode (no clientAuth): the daemon negotiates itself from X-Registry-Auth, as dockerd does: Basic after a
// Basic challenge, Bearer tokens from the challenge's realm (GET with Basic, OAuth refresh with an identity token),
// registrytoken as-is. Credentials go only to the origin (scheme, host, port) they were given for; other origins
// get anonymous tokens.

import { createHash } from 'node:crypto';
import type { AuthConfig } from '../../../api-spec/auth-config.ts';
import {
  bearerParams,
  checkRealm,
  mergeScopes,
  parseScope,
  parseWwwAuthenticate,
  type Scope,
  scopeKey,
  type TokenCache,
  type TokenCredential,
  type TokenResponse,
} from '../../../protocol/index.ts';
import type { Endpoint } from '../endpoint.ts';
import { RegistryUnauthorizedError } from '../errors.ts';
import { Secrets } from '../transport/sanitize.ts';
import type { TokenRequest } from '../transport/token-leg.ts';
import type { Authorizer, AuthRequest } from './authorizer.ts';
import type { ChallengeMemory, HostChallenge } from './challenge-memory.ts';
import { basicCredentials, basicHeader, bearerHeader } from './credentials.ts';

type BearerChallenge = Extract<HostChallenge, { scheme: 'bearer' }>;

export interface ClassicAuthorizerOptions {
  auth: AuthConfig;
  /** The origin the credentials were given for (serveraddress, else the reference's registry). */
  credentialOrigin: string;
  memory: ChallengeMemory;
  /** Daemon-wide, so a second pull within a token's life costs no 401 and no token request. */
  tokens: TokenCache;
  /** The token leg of the transport (certs.d CA, User-Agent, retries). */
  fetchToken(request: TokenRequest, registry: Endpoint): Promise<TokenResponse>;
  clientId: string;
  /** docker login: ask for an offline token and report the refresh token the token server issues. */
  login?: { onRefreshToken(token: string): void };
}

export class ClassicAuthorizer implements Authorizer {
  readonly #o: ClassicAuthorizerOptions;
  /** Keys the cache by who asked, so one client's token never serves another client's request. */
  readonly #identity: string;
  readonly #secrets = new Secrets();

  constructor(options: ClassicAuthorizerOptions) {
    this.#o = options;
    this.#identity = identityOf(options.auth);
    const { auth } = options;
    const basic = basicCredentials(auth);
    if (basic) this.#secrets.addBasic(basic.username, basic.password);
    this.#secrets.add(auth.identitytoken);
    this.#secrets.add(auth.registrytoken);
  }

  secrets(): Secrets {
    return this.#secrets;
  }

  async authorization(request: AuthRequest): Promise<string | undefined> {
    const { endpoint } = request;
    const mine = this.#mine(endpoint);
    if (mine && this.#o.auth.registrytoken) return bearerHeader(this.#o.auth.registrytoken);
    const seen = this.#o.memory.get(endpoint);
    if (seen?.scheme === 'basic') {
      const basic = mine ? basicCredentials(this.#o.auth) : undefined;
      return basic ? basicHeader(basic) : undefined;
    }
    if (seen?.scheme !== 'bearer') return undefined;
    try {
      return bearerHeader(await this.#token(request, seen, request.scopes));
    } catch (err) {
      if (request.signal?.aborted) throw err;
      // The remembered realm no longer serves us (refused, down, moved): ask the registry again, unauthenticated,
      // and answer whatever it challenges with now.
      this.#o.memory.forget(endpoint);
      return undefined;
    }
  }

  async challenged(request: AuthRequest, lines: string[], refused?: string): Promise<void> {
    const { endpoint } = request;
    const challenges = parseWwwAuthenticate(lines);
    const bearer = bearerParams(challenges);
    if (bearer) {
      const seen = this.#o.memory.remember(endpoint, lines) as BearerChallenge;
      // Renewed since this request was sent (another request met the same expiry first): the retry takes the new
      // token, so a token expiring under many requests in flight costs one token request, not one per request.
      const current = this.#o.tokens.peek(this.#key(endpoint, seen, request.scopes));
      if (refused !== undefined && current !== undefined && refused !== bearerHeader(current.token)) return;
      // Registries may name another repository or more actions than the request needs (Artifactory, nvcr.io):
      // ask for both, and file the token under the request's own scope too, so the next request finds it.
      const wanted = mergeScopes(request.scopes, parseScopes(bearer.scope ?? []));
      if (bearer.error === 'invalid_token' || bearer.error === 'insufficient_scope') {
        this.#o.tokens.invalidate(this.#key(endpoint, seen, request.scopes));
        this.#o.tokens.invalidate(this.#key(endpoint, seen, wanted));
      }
      await this.#token(request, seen, wanted);
      this.#o.tokens.alias(this.#key(endpoint, seen, request.scopes), this.#key(endpoint, seen, wanted));
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const basic = this.#mine(endpoint) ? basicCredentials(this.#o.auth) : undefined;
      if (!basic) {
        throw new RegistryUnauthorizedError(
          endpoint.host,
          request.repository,
          lines,
          'no basic auth credentials',
        );
      }
      this.#o.memory.remember(endpoint, lines);
      return;
    }
    throw new RegistryUnauthorizedError(
      endpoint.host,
      request.repository,
      lines,
      'unauthorized: authentication required',
    );
  }

  #mine(endpoint: Endpoint): boolean {
    return endpoint.origin === this.#o.credentialOrigin;
  }

  #key(endpoint: Endpoint, seen: BearerChallenge, scopes: Scope[]): string {
    return [endpoint.origin, seen.realm, seen.service ?? '', scopeKey(scopes), this.#identity].join('|');
  }

  async #token(request: AuthRequest, seen: BearerChallenge, scopes: Scope[]): Promise<string> {
    const { endpoint } = request;
    const realm = checkRealm(seen.realm, { host: endpoint.host, secure: endpoint.secure });
    const credential = this.#mine(endpoint) ? credentialOf(this.#o.auth) : { kind: 'anonymous' as const };
    const entry = await this.#o.tokens.get(this.#key(endpoint, seen, scopes), () =>
      this.#o
        .fetchToken(
          {
            realm,
            ...(seen.service !== undefined ? { service: seen.service } : {}),
            scopes,
            credential,
            clientId: this.#o.clientId,
            ...(this.#o.login ? { offline: true } : {}),
            // No caller's signal: concurrent requests share this fetch, and one client leaving must not fail the rest.
          },
          endpoint,
        )
        .then((response) => {
          this.#secrets.add(response.token);
          this.#secrets.add(response.refreshToken);
          if (response.refreshToken && this.#o.login) this.#o.login.onRefreshToken(response.refreshToken);
          return response;
        }),
    );
    this.#secrets.add(entry.token);
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
