// clientAuth mode: the daemon never negotiates. It sends only what the API client gave for the very origin being
// asked. A 401 before the stream started becomes a ForwardedChallengeError carrying the registry's WWW-Authenticate
// lines untouched (the client answers with a new request). Once the stream has started, and the client opted in to
// the side channel, the request that met the 401 waits while the challenge is asked in the stream; the answer joins
// the credentials, the request is sent once more, and the operation goes on. A token whose expiry the client gave
// (with an answer, or registrytokenttl) is renewed the same way by the first request to its host in the last quarter
// of its life, before that request is sent: a long operation need not meet a 401 again.

import { authChallengeMessage } from '../../../api-spec/auth-challenge.ts';
import type { AuthConfig } from '../../../api-spec/auth-config.ts';
import type { Endpoint } from '../endpoint.ts';
import { ForwardedChallengeError } from '../errors.ts';
import { Secrets } from '../transport/sanitize.ts';
import type { ChallengeChannel } from './auth-mode.ts';
import type { Authorizer, AuthRequest } from './authorizer.ts';
import type { ChallengeMemory } from './challenge-memory.ts';
import { basicCredentials, basicHeader, bearerHeader, withAnswer } from './credentials.ts';

/** How long before expiry a renewal is asked: a quarter of the token's life, at least 1 s, at most 30 s. */
export function renewalLeadMs(lifetimeMs: number): number {
  return Math.min(30_000, Math.max(1_000, lifetimeMs / 4));
}

export class ForwardingAuthorizer implements Authorizer {
  #auth: AuthConfig;
  readonly #credentialOrigin: string;
  readonly #memory: ChallengeMemory;
  readonly #secrets = new Secrets();
  readonly #channel: ChallengeChannel | undefined;
  /**
   * Per host, when its token enters the renewal window. The next request to the host from then on asks the client
   * first: a renewal costs no 401, and an operation idle meanwhile (one long blob body) costs no renewal at all.
   */
  readonly #renewAt = new Map<string, number>();
  /**
   * Per host, the renewal being asked. Requests to the host wait for it: the one that saw the window open asks, and
   * the others would otherwise go out at once with the token being replaced, which may already have expired.
   */
  readonly #renewing = new Map<string, Promise<void>>();

  constructor(
    auth: AuthConfig,
    credentialOrigin: string,
    memory: ChallengeMemory,
    channel?: ChallengeChannel,
  ) {
    this.#auth = auth;
    this.#credentialOrigin = credentialOrigin;
    this.#memory = memory;
    this.#channel = channel;
    this.#hold(auth);
    const now = Date.now();
    for (const [host, seconds] of Object.entries(auth.registrytokenttl ?? {})) {
      this.#scheduleRenewal(host, now + seconds * 1000);
    }
  }

  secrets(): Secrets {
    return this.#secrets;
  }

  async authorization({ endpoint, repository }: AuthRequest): Promise<string | undefined> {
    await this.#renewIfDue(endpoint, repository);
    return this.#current(endpoint);
  }

  async challenged({ endpoint, repository }: AuthRequest, lines: string[], refused?: string): Promise<void> {
    try {
      this.#memory.remember(endpoint, lines);
    } catch {
      // A realm the daemon's policy refuses is not remembered; the client judges the challenge itself.
    }
    // Answered since this request was sent (another request's challenge, a renewal): the retry carries the answer,
    // so requests in flight when a token expires cost the client one question, not one each.
    if (refused !== undefined && refused !== this.#current(endpoint)) return;
    if (this.#channel?.streaming && lines.length > 0) {
      await this.#ask(this.#channel, endpoint.host, repository, lines, false);
      return;
    }
    throw new ForwardedChallengeError(
      endpoint.host,
      repository,
      lines,
      authChallengeMessage(endpoint.host, repository, lines.length > 0),
    );
  }

  /** What goes to `endpoint` now: only what the client gave for that very origin. */
  #current(endpoint: Endpoint): string | undefined {
    const mine = endpoint.origin === this.#credentialOrigin;
    // A per-host token goes to the registry's own origin, or to an origin that challenged for it (a redirect
    // target the client answered for); never to the same host reached over another scheme.
    const hostToken =
      mine || this.#memory.get(endpoint) ? this.#auth.registrytokens?.[endpoint.host] : undefined;
    const token = hostToken ?? (mine ? this.#auth.registrytoken : undefined);
    if (token) return bearerHeader(token);
    const basic = mine ? basicCredentials(this.#auth) : undefined;
    // Basic credentials only go to an origin that asked for Basic: never offered blind.
    if (basic && this.#memory.get(endpoint)?.scheme === 'basic') return basicHeader(basic);
    return undefined;
  }

  /** Asks for a renewal when the host's token is in its renewal window, repeating the origin's last challenge. */
  async #renewIfDue(endpoint: Endpoint, repository: string): Promise<void> {
    const host = endpoint.host;
    const renewing = this.#renewing.get(host);
    if (renewing) return renewing;
    const at = this.#renewAt.get(host);
    const lines = this.#memory.lines(endpoint);
    if (at === undefined || Date.now() < at || !this.#channel?.streaming || !lines) return;
    this.#renewAt.delete(host);
    // A renewal that fails (declined, unanswered) leaves the token as it is: its expiry brings a 401 and a question.
    const renewal = this.#ask(this.#channel, host, repository, lines, true)
      .catch(() => undefined)
      .finally(() => this.#renewing.delete(host));
    this.#renewing.set(host, renewal);
    return renewal;
  }

  async #ask(
    channel: ChallengeChannel,
    host: string,
    repository: string,
    lines: string[],
    renewal: boolean,
  ): Promise<void> {
    const answer = await channel.ask({ registry: host, repository, lines, renewal });
    this.#hold(answer.auth);
    this.#auth = withAnswer(this.#auth, new URL(this.#credentialOrigin).host, host, answer.auth);
    this.#renewAt.delete(host);
    if (answer.expiresAt !== undefined) this.#scheduleRenewal(host, answer.expiresAt);
  }

  /** Every credential this authorizer may send is masked in what the transport logs or returns. */
  #hold(auth: AuthConfig): void {
    const basic = basicCredentials(auth);
    if (basic) this.#secrets.addBasic(basic.username, basic.password);
    this.#secrets.add(auth.registrytoken);
    for (const token of Object.values(auth.registrytokens ?? {})) this.#secrets.add(token);
  }

  #scheduleRenewal(host: string, expiresAt: number): void {
    const lifetimeMs = expiresAt - Date.now();
    this.#renewAt.set(host, expiresAt - renewalLeadMs(lifetimeMs));
  }
}
