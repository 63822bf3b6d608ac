// clientAuth mode: the daemon never negotiates. It sends only what the API client gave for the very host being
// asked, and turns every 401 into a ForwardedChallengeError carrying the registry's WWW-Authenticate lines untouched.

import { authChallengeMessage } from '../../../api-spec/auth-challenge.ts';
import type { AuthConfig } from '../../../api-spec/auth-config.ts';
import { ForwardedChallengeError } from '../errors.ts';
import type { Authorizer, AuthRequest } from './authorizer.ts';
import type { ChallengeMemory } from './challenge-memory.ts';
import { basicCredentials, basicHeader } from './credentials.ts';

export class ForwardingAuthorizer implements Authorizer {
  readonly #auth: AuthConfig;
  readonly #credentialHost: string;
  readonly #memory: ChallengeMemory;

  constructor(auth: AuthConfig, credentialHost: string, memory: ChallengeMemory) {
    this.#auth = auth;
    this.#credentialHost = credentialHost;
    this.#memory = memory;
  }

  async authorization({ endpoint }: AuthRequest): Promise<string | undefined> {
    const host = endpoint.host;
    const token =
      this.#auth.registrytokens?.[host] ??
      (host === this.#credentialHost ? this.#auth.registrytoken : undefined);
    if (token) return `Bearer ${token}`;
    const basic = host === this.#credentialHost ? basicCredentials(this.#auth) : undefined;
    // Basic credentials only go to a host that asked for Basic: never offered blind.
    if (basic && this.#memory.get(host)?.scheme === 'basic') return basicHeader(basic);
    return undefined;
  }

  async challenged({ endpoint, repository }: AuthRequest, lines: string[]): Promise<void> {
    this.#memory.remember(endpoint.host, lines);
    throw new ForwardedChallengeError(
      endpoint.host,
      repository,
      lines,
      authChallengeMessage(endpoint.host, repository, lines.length > 0),
    );
  }
}
