// clientAuth mode: the daemon never negotiates. It sends only what the API client gave for the very origin being
// asked, and turns every 401 into a ForwardedChallengeError carrying the registry's WWW-Authenticate lines untouched.

import { authChallengeMessage } from '../../../api-spec/auth-challenge.ts';
import type { AuthConfig } from '../../../api-spec/auth-config.ts';
import { ForwardedChallengeError } from '../errors.ts';
import { Secrets } from '../transport/sanitize.ts';
import type { Authorizer, AuthRequest } from './authorizer.ts';
import type { ChallengeMemory } from './challenge-memory.ts';
import { basicCredentials, basicHeader } from './credentials.ts';

export class ForwardingAuthorizer implements Authorizer {
  readonly #auth: AuthConfig;
  readonly #credentialOrigin: string;
  readonly #memory: ChallengeMemory;
  readonly #secrets = new Secrets();

  constructor(auth: AuthConfig, credentialOrigin: string, memory: ChallengeMemory) {
    this.#auth = auth;
    this.#credentialOrigin = credentialOrigin;
    this.#memory = memory;
    const basic = basicCredentials(auth);
    if (basic) this.#secrets.addBasic(basic.username, basic.password);
    this.#secrets.add(auth.registrytoken);
    for (const token of Object.values(auth.registrytokens ?? {})) this.#secrets.add(token);
  }

  secrets(): Secrets {
    return this.#secrets;
  }

  async authorization({ endpoint }: AuthRequest): Promise<string | undefined> {
    const mine = endpoint.origin === this.#credentialOrigin;
    // A per-host token goes to the registry's own origin, or to an origin that challenged for it (a redirect
    // target the client answered for); never to the same host reached over another scheme.
    const hostToken =
      mine || this.#memory.get(endpoint) ? this.#auth.registrytokens?.[endpoint.host] : undefined;
    const token = hostToken ?? (mine ? this.#auth.registrytoken : undefined);
    if (token) return `Bearer ${token}`;
    const basic = mine ? basicCredentials(this.#auth) : undefined;
    // Basic credentials only go to an origin that asked for Basic: never offered blind.
    if (basic && this.#memory.get(endpoint)?.scheme === 'basic') return basicHeader(basic);
    return undefined;
  }

  async challenged({ endpoint, repository }: AuthRequest, lines: string[]): Promise<void> {
    try {
      this.#memory.remember(endpoint, lines);
    } catch {
      // A realm the daemon's policy refuses is not remembered; the client judges the challenge itself.
    }
    throw new ForwardedChallengeError(
      endpoint.host,
      repository,
      lines,
      authChallengeMessage(endpoint.host, repository, lines.length > 0),
    );
  }
}
