// Daemon-wide registry state shared by every request: connection pools, the token cache and what each host's
// challenges asked for. Per request it builds the authorizer its auth mode calls for.

import { TokenCache } from '../../protocol/index.ts';
import { type Authorizer, ChallengeMemory } from '../registry/authorizer.ts';
import { ClassicAuthorizer, type ClassicAuthorizerOptions } from '../registry/classic-authorizer.ts';
import { credentialHost } from '../registry/credential-host.ts';
import { type Endpoint, networkHost, resolveEndpoint } from '../registry/endpoint.ts';
import { ForwardingAuthorizer } from '../registry/forwarding-authorizer.ts';
import { RepositoryClient } from '../registry/repository-client.ts';
import type { RetryNotice, RetryPolicy } from '../registry/retry.ts';
import { Transport } from '../registry/transport.ts';
import type { AuthMode } from './image-service.ts';

export interface RegistryAccessOptions {
  insecureRegistries: string[];
  /** Mirrors for docker.io (--registry-mirror). */
  registryMirrors: string[];
  /** Mirrors per registry host[:port], from the config file. */
  mirrorsByHost: Record<string, string[]>;
  certsDir?: string;
  retry: RetryPolicy;
  clientId: string;
}

export class RegistryAccess {
  readonly transport: Transport;
  readonly #memory = new ChallengeMemory();
  readonly #tokens = new TokenCache();
  readonly #o: RegistryAccessOptions;

  constructor(options: RegistryAccessOptions) {
    this.#o = options;
    this.transport = new Transport({ retry: options.retry, userAgent: 'dockhand/0.1' });
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  authorizer(mode: AuthMode, domain: string, login?: ClassicAuthorizerOptions['login']): Authorizer {
    const host = credentialHost(mode.auth, domain);
    return mode.clientAuth
      ? new ForwardingAuthorizer(mode.auth, host, this.#memory)
      : new ClassicAuthorizer({
          auth: mode.auth,
          credentialHost: host,
          memory: this.#memory,
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
      authorizer: this.authorizer(mode, domain, options.login),
      endpoints: [...mirrors, origin],
      repository,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    });
  }

  async #mirrors(domain: string): Promise<Endpoint[]> {
    const urls =
      domain === 'docker.io' ? this.#o.registryMirrors : (this.#o.mirrorsByHost[networkHost(domain)] ?? []);
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
