// What a Bearer challenge asks for, with its realm checked by the same policy the daemon applies (no http
// downgrade, no private or link-local realms except the registry's own host), before any credential leaves.

import { bearerParams, checkRealm } from '../../protocol/index.ts';
import type { AuthChallenge } from '../challenge.ts';
import { isPlainHttpRegistry } from './plain-http.ts';

export interface RealmOptions {
  /**
   * Registries spoken to over plain http (`host[:port]`), whose realm may be http too. Loopback registries
   * (127.0.0.0/8, ::1, localhost) count as plain http without being listed, as the daemon treats them.
   */
  insecureRegistries?: string[];
}

export interface BearerTarget {
  realm: URL;
  service: string | undefined;
  /** The challenge's scopes, as the registry wrote them. */
  scopes: string[];
  /** `invalid_token` or `insufficient_scope`: the token given last time must not be offered again. */
  error: string | undefined;
}

/** The Bearer challenge's target, or undefined when the challenge has no usable Bearer challenge. */
export function bearerTarget(challenge: AuthChallenge, options: RealmOptions): BearerTarget | undefined {
  const bearer = bearerParams(challenge.challenges);
  if (bearer === undefined) return undefined;
  const secure = !isPlainHttpRegistry(challenge.registry, options.insecureRegistries ?? []);
  return {
    realm: checkRealm(bearer.realm, { host: challenge.registry, secure }),
    service: bearer.service,
    scopes: bearer.scope ?? [],
    error: bearer.error,
  };
}
