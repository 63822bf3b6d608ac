// The one place where the classic mode and clientAuth differ. The transport asks an Authorizer what to send to an
// origin (scheme, host, port) and tells it when a registry answered 401; the same pull and push code runs over either implementation.

import type { Scope } from '../../../protocol/index.ts';
import type { Endpoint } from '../endpoint.ts';
import type { Secrets } from '../transport/sanitize.ts';

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
   * The registry answered 401 with these WWW-Authenticate lines to a request that carried `refused` (its
   * Authorization, if any). Resolves when new credentials are ready for one retry; throws (typed) when the request
   * must fail or, in clientAuth mode, be forwarded to the API client. A request sent before its credential was
   * renewed meets its refusal after the renewal: the renewed credential answers it, without asking again.
   */
  challenged(request: AuthRequest, lines: string[], refused?: string): Promise<void>;
  /** Every credential this authorizer holds or has sent, to mask in registry error text. */
  secrets(): Secrets;
}
