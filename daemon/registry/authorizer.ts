// The one place where the classic mode and clientAuth differ. The transport asks an Authorizer what to send and
// tells it when a registry answered 401; the same pull and push code runs over either implementation.

import type { Scope } from '../../protocol/index.ts';
import type { Endpoint } from './endpoint.ts';

export interface AuthRequest {
  endpoint: Endpoint;
  /** What this request needs, e.g. repository:small:pull. */
  scopes: Scope[];
  /** Named in errors and forwarded challenges. */
  repository: string;
  signal?: AbortSignal;
}

export interface Authorizer {
  /** The Authorization value to send, or undefined to send none. Never a credential for another host. */
  authorization(request: AuthRequest): Promise<string | undefined>;
  /**
   * The registry answered 401 with these WWW-Authenticate lines. Resolves when new credentials are ready for one
   * retry; throws (typed) when the request must fail or, in clientAuth mode, be forwarded to the API client.
   */
  challenged(request: AuthRequest, lines: string[]): Promise<void>;
}

/** What each host asked for last time (not secret), so later requests authorize up front instead of taking a 401. */
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
}
