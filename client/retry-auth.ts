// The X-Registry-Auth of each retry: the caller's AuthConfig plus every answer a challenge handler gave.
// Bearer tokens accumulate per host (a mirror and its origin, a push and its mount source can all be answered);
// other credentials (Basic username/password) are bound to the one host whose challenge they answered last.

import type { AuthConfig } from '../api-spec/index.ts';
import type { ChallengeAnswer } from './challenge.ts';

export class RetryAuth {
  readonly #initial: AuthConfig | undefined;
  #bound: AuthConfig | undefined;
  readonly #tokens = new Map<string, string>();
  /** When each host's token ends (ms since the epoch), when its handler said; sent only if `reportExpiry`. */
  readonly #expiresAt = new Map<string, number>();
  readonly #reportExpiry: boolean;
  #lastTokenHost: string | undefined;

  constructor(initial: AuthConfig | undefined, reportExpiry = false) {
    this.#initial = initial;
    this.#reportExpiry = reportExpiry;
  }

  /** Records a handler's answer to a challenge from `registry` (`host[:port]`). */
  add(registry: string, answer: ChallengeAnswer): void {
    const host = answer.serveraddress || registry;
    for (const [tokenHost, token] of Object.entries(answer.registrytokens ?? {}))
      this.#tokens.set(tokenHost, token);
    if (answer.registrytoken) {
      this.#tokens.set(host, answer.registrytoken);
      this.#lastTokenHost = host;
      if (answer.expiresAt === undefined) this.#expiresAt.delete(host);
      else this.#expiresAt.set(host, answer.expiresAt);
    }
    const {
      registrytoken: _token,
      registrytokens: _tokens,
      serveraddress: _server,
      expiresAt: _expiresAt,
      grantedScope: _granted,
      ...rest
    } = answer;
    if (Object.keys(rest).length > 0) this.#bound = { ...rest, serveraddress: host };
  }

  /** What to send now; undefined when there is nothing (no header at all). */
  current(now = Date.now()): AuthConfig | undefined {
    const base = this.#bound ?? this.#initial;
    if (this.#tokens.size === 0) return base;
    const out: AuthConfig = { ...base, registrytokens: Object.fromEntries(this.#tokens) };
    const ttl = [...this.#expiresAt]
      .filter(([, at]) => at > now)
      .map(([host, at]) => [host, (at - now) / 1000]);
    if (this.#reportExpiry && ttl.length > 0) out.registrytokenttl = Object.fromEntries(ttl);
    // With no host-bound credentials in the way, also name the latest token's host in the classic fields, so a
    // daemon reading only registrytoken + serveraddress (moby#48847) is answered too.
    if (this.#lastTokenHost !== undefined && !hasBoundCredentials(base)) {
      out.serveraddress = this.#lastTokenHost;
      out.registrytoken = this.#tokens.get(this.#lastTokenHost);
    }
    return out;
  }
}

function hasBoundCredentials(auth: AuthConfig | undefined): boolean {
  return Boolean(
    auth?.username || auth?.password || auth?.auth || auth?.identitytoken || auth?.registrytoken,
  );
}
