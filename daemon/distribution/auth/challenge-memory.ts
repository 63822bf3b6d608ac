// What each host asked for last time (not secret), so later requests authorize up front instead of taking a 401.

import { bearerParams, parseWwwAuthenticate } from '../../../protocol/index.ts';

export type HostChallenge =
  | { scheme: 'basic' }
  | { scheme: 'bearer'; realm: string; service: string | undefined; scopes: string[] };

export class ChallengeMemory {
  readonly #byHost = new Map<string, HostChallenge>();

  get(host: string): HostChallenge | undefined {
    return this.#byHost.get(host);
  }

  set(host: string, challenge: HostChallenge): void {
    this.#byHost.set(host, challenge);
  }

  /** Records what a host's WWW-Authenticate lines asked for (Bearer first, else Basic; nothing for other schemes). */
  remember(host: string, lines: string[]): void {
    const challenges = parseWwwAuthenticate(lines);
    const bearer = bearerParams(challenges);
    if (bearer) {
      this.set(host, {
        scheme: 'bearer',
        realm: bearer.realm,
        service: bearer.service,
        scopes: bearer.scope ?? [],
      });
    } else if (challenges.some((c) => c.scheme === 'basic')) {
      this.set(host, { scheme: 'basic' });
    }
  }
}
