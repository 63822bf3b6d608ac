// What each origin's challenges asked for (not secret), so later requests authorize up front instead of taking a
// 401. A challenge is checked before it is remembered (a refused realm is never replayed to other repositories),
// entries expire, and a remembered realm that fails is forgotten so the next request learns the current one.

import { bearerParams, checkRealm, parseWwwAuthenticate } from '../../../protocol/index.ts';
import type { Endpoint } from '../endpoint.ts';

export type HostChallenge =
  | { scheme: 'basic' }
  | { scheme: 'bearer'; realm: string; service: string | undefined; scopes: string[] };

/** Long enough to spare a 401 per request during a pull, short enough to follow a registry's changes. */
export const CHALLENGE_MEMORY_TTL_MS = 10 * 60_000;

export class ChallengeMemory {
  readonly #byOrigin = new Map<string, { challenge: HostChallenge; lines: string[]; until: number }>();
  readonly #ttlMs: number;

  constructor(ttlMs = CHALLENGE_MEMORY_TTL_MS) {
    this.#ttlMs = ttlMs;
  }

  get(endpoint: Pick<Endpoint, 'origin'>): HostChallenge | undefined {
    const entry = this.#byOrigin.get(endpoint.origin);
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      this.#byOrigin.delete(endpoint.origin);
      return undefined;
    }
    return entry.challenge;
  }

  /** The WWW-Authenticate lines as the origin last sent them, for asking a client to renew what answered them. */
  lines(endpoint: Pick<Endpoint, 'origin'>): string[] | undefined {
    return this.get(endpoint) === undefined ? undefined : this.#byOrigin.get(endpoint.origin)?.lines;
  }

  forget(endpoint: Pick<Endpoint, 'origin'>): void {
    this.#byOrigin.delete(endpoint.origin);
  }

  /**
   * Records what an origin's WWW-Authenticate lines asked for (Bearer first, else Basic) and returns it; a Bearer
   * challenge whose realm the realm policy refuses is not recorded (checkRealm's error is thrown).
   */
  remember(
    endpoint: Pick<Endpoint, 'origin' | 'host' | 'secure'>,
    lines: string[],
  ): HostChallenge | undefined {
    const challenges = parseWwwAuthenticate(lines);
    const bearer = bearerParams(challenges);
    let challenge: HostChallenge | undefined;
    if (bearer) {
      checkRealm(bearer.realm, { host: endpoint.host, secure: endpoint.secure });
      challenge = {
        scheme: 'bearer',
        realm: bearer.realm,
        service: bearer.service,
        scopes: bearer.scope ?? [],
      };
    } else if (challenges.some((c) => c.scheme === 'basic')) {
      challenge = { scheme: 'basic' };
    }
    if (challenge) {
      this.#byOrigin.set(endpoint.origin, { challenge, lines: [...lines], until: Date.now() + this.#ttlMs });
    }
    return challenge;
  }
}
