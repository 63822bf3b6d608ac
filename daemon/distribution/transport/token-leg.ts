// Token requests leave through the same door as registry requests: the realm host's certs.d CAs (with the
// registry's), the daemon's User-Agent, the same idle timeouts, and the one retry policy for failures worth
// another try (no answer, 408/429/5xx). The realm has passed checkRealm before it gets here; its connections are
// guarded for the registry (a GET on the wire's connection of its own, a POST through the registry's guarded undici
// pool), so a realm named by DNS is held to the same address classes on the address it is reached at (a refused one
// fails with RealmRefusedError before any byte is sent).

import {
  type FetchTokenOptions,
  fetchToken,
  TokenRequestError,
  type TokenResponse,
} from '../../../protocol/index.ts';
import { type Endpoint, readCaFiles } from '../endpoint.ts';
import type { Network } from './network.ts';
import { isRetryableStatus, retryCall } from './retry.ts';
import type { TransportLimits } from './transport.ts';

export type TokenRequest = Omit<
  FetchTokenOptions,
  'dispatcher' | 'get' | 'registryHost' | 'userAgent' | 'timeoutMs'
>;

export class TokenLeg {
  readonly #network: Network;
  readonly #limits: TransportLimits;
  readonly #certsDir: string | undefined;

  constructor(network: Network, limits: TransportLimits, certsDir: string | undefined) {
    this.#network = network;
    this.#limits = limits;
    this.#certsDir = certsDir;
  }

  /** Fetches a token for a request to `registry`, whose CAs the token server is trusted with too. */
  async fetch(request: TokenRequest, registry: Endpoint): Promise<TokenResponse> {
    const realm = new URL(request.realm);
    const realmCa = this.#certsDir ? await readCaFiles(this.#certsDir, realm.host) : [];
    const ca = [...(registry.ca ?? []), ...realmCa];
    const network = this.#network;
    return retryCall(this.#limits.retry, request.signal, worthRetrying, () =>
      fetchToken({
        ...request,
        get: (url, headers, signal) =>
          network.guardedRequest(registry.host, ca, { method: 'GET', url, headers, signal, bulk: false }),
        // A POST's pool, made (and undici loaded) only when a flow posts.
        dispatcher: () => network.guardedDispatcher(registry.host, ca),
        userAgent: this.#network.userAgent,
        timeoutMs: this.#limits.requestTimeoutMs,
      }),
    );
  }
}

function worthRetrying(err: unknown): boolean {
  if (!(err instanceof TokenRequestError)) return false;
  if (err.status === undefined) return err.reason === 'network';
  return isRetryableStatus(err.status);
}
