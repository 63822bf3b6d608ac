// The composition root of registry access: daemon-wide state shared by every request (connection pools, the token
// cache, what each host's challenges asked for), and per request the authorizer its auth mode calls for, wrapped
// around the one transport, in a RepositoryClient for the repository asked for.

import { registryHostOf, TokenCache } from '../../protocol/index.ts';
import type { AuthMode } from './auth/auth-mode.ts';
import type { Authorizer } from './auth/authorizer.ts';
import { ChallengeMemory } from './auth/challenge-memory.ts';
import { ClassicAuthorizer, type ClassicAuthorizerOptions } from './auth/classic-authorizer.ts';
import { credentialHost } from './auth/credentials.ts';
import { ForwardingAuthorizer } from './auth/forwarding-authorizer.ts';
import { type Endpoint, resolveEndpoint } from './endpoint.ts';
import { RepositoryClient } from './repository-client.ts';
import type { RetryNotice } from './transport/retry.ts';
import { RegistryTransport, type TransportLimits } from './transport/transport.ts';

export interface RegistryAccessOptions {
  insecureRegistries: string[];
  /** Mirrors for docker.io (--registry-mirror). */
  registryMirrors: string[];
  /** Mirrors per registry host[:port], from the config file. */
  mirrorsByHost: Record<string, string[]>;
  certsDir?: string;
  limits?: Partial<TransportLimits>;
  clientId: string;
}

export class RegistryAccess {
  readonly transport: RegistryTransport;
  readonly #memory = new ChallengeMemory();
  readonly #tokens = new TokenCache();
  readonly #o: RegistryAccessOptions;

  constructor(options: RegistryAccessOptions) {
    this.#o = options;
    this.transport = new RegistryTransport({
      userAgent: 'dockhand/0.1',
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.certsDir ? { certsDir: options.certsDir } : {}),
    });
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  /** Credentials go to the origin their host resolves to (scheme included), never to the same host elsewhere. */
  async authorizer(
    mode: AuthMode,
    domain: string,
    login?: ClassicAuthorizerOptions['login'],
  ): Promise<Authorizer> {
    const credentialOrigin = (await resolveEndpoint(credentialHost(mode.auth, domain), this.#o)).origin;
    return mode.clientAuth
      ? new ForwardingAuthorizer(mode.auth, credentialOrigin, this.#memory, mode.channel)
      : new ClassicAuthorizer({
          auth: mode.auth,
          credentialOrigin,
          memory: this.#memory,
          fetchToken: (request, registry) => this.transport.tokens.fetch(request, registry),
          // A login must reach the token server to get its refresh token, so it never reads the shared cache.
          tokens: login ? new TokenCache() : this.#tokens,
          clientId: this.#o.clientId,
          ...(login ? { login } : {}),
        });
  }

  async repository(
    domain: string,
    repository: string,
    mode: AuthMode,
    options: {
      signal?: AbortSignal;
      onRetry?: (n: RetryNotice) => void;
      mirrors?: boolean;
      login?: ClassicAuthorizerOptions['login'];
    } = {},
  ): Promise<RepositoryClient> {
    const origin = await resolveEndpoint(domain, this.#o);
    const mirrors = options.mirrors === false ? [] : await this.#mirrors(domain);
    return new RepositoryClient({
      transport: this.transport,
      authorizer: await this.authorizer(mode, domain, options.login),
      endpoints: [...mirrors, origin],
      repository,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    });
  }

  async #mirrors(domain: string): Promise<Endpoint[]> {
    const urls =
      domain === 'docker.io'
        ? this.#o.registryMirrors
        : (this.#o.mirrorsByHost[registryHostOf(domain)] ?? []);
    return Promise.all(
      urls.map(async (u) => {
        const url = new URL(u.includes('://') ? u : `https://${u}`);
        const endpoint = await resolveEndpoint(url.host, this.#o);
        // The mirror's URL says how to reach it; an explicit http:// is honoured as dockerd does.
        return { ...endpoint, origin: url.origin, secure: url.protocol === 'https:' };
      }),
    );
  }

  /** What GET /info reports about registries. */
  describe(): { insecure: string[]; mirrors: string[] } {
    return { insecure: this.#o.insecureRegistries, mirrors: this.#o.registryMirrors };
  }
}
