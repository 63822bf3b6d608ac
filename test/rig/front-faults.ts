// Faults a front injects, and which requests they hit. Faults compose: several may match one request (for example
// a slow body that is also cut). Each fault counts its own matches, so "the 2nd blob GET" is `{ nth: 2 }`.

export type RequestKind =
  | 'ping'
  | 'manifest'
  | 'blob'
  | 'upload'
  | 'tags'
  | 'catalog'
  | 'referrers'
  | 'other';

export interface FaultMatch {
  /** Request kind to hit. Default 'blob'. */
  kind?: RequestKind | 'any';
  /** HTTP method. Default 'GET' for body faults and redirects, any method for status faults. */
  method?: string;
  /** Only requests whose path contains this string. */
  pathIncludes?: string;
  /** Hit only the Nth matching request (1-based). */
  nth?: number;
  /** Hit the first K matching requests. Without nth or times, every matching request is hit. */
  times?: number;
}

/** Answered by the front without asking the registry: 429 (with Retry-After), 500, 503, ... */
export type StatusFault = FaultMatch & { type: 'status'; status: number; retryAfter?: number | string };

/**
 * Body faults and redirects only count responses the registry answered 200/206 (a 401 does not use them up).
 * - reset: TCP RST after `afterBytes` body bytes.
 * - truncate: Content-Length kept, the body ends (clean FIN) after `afterBytes`.
 * - slow: body throttled to `bytesPerSecond`.
 * - flip: one byte XOR 0xff at `atByte` of the served body (default its middle), so the digest no longer matches.
 * - redirect: 307 (or `status`) to the redirect target, which serves the same blob: `other-host` sends clients to
 *   http://localhost:PORT (another origin), `other-port` to http://127.0.0.1:PORT (same host, another port).
 */
export type BodyFault = FaultMatch &
  (
    | { type: 'reset'; afterBytes: number }
    | { type: 'truncate'; afterBytes: number }
    | { type: 'slow'; bytesPerSecond: number }
    | { type: 'flip'; atByte?: number }
    | { type: 'redirect'; to: 'other-host' | 'other-port'; status?: 301 | 302 | 303 | 307 | 308 }
  );

/** The registry's answer gets `Warning: 299 - "text"` (distribution spec: deprecations, quotas), any method. */
export type WarningFault = FaultMatch & { type: 'warning'; text: string };

/**
 * ignore-range: the request's Range header is dropped before the registry sees it, so the registry answers 200 with
 * the whole blob (as registries and proxies that do not serve ranges do). Only requests with a Range header count.
 */
export type RangeFault = FaultMatch & { type: 'ignore-range' };

/**
 * revoke-token: the bearer token of the matching request is revoked from then on: it, and every later request of any
 * kind carrying the same token, reaches the registry with the token's signature spoiled, so the registry itself
 * refuses it with its own 401 and challenge (`error="invalid_token"`). Only requests carrying a Bearer count.
 */
export type RevokeFault = FaultMatch & { type: 'revoke-token' };

/**
 * hold: the request reaches the registry `ms` late (a slow link or proxy on the way), so the registry judges its
 * token then: a token that expired or was revoked meanwhile is refused, and the refusal comes that late.
 */
export type HoldFault = FaultMatch & { type: 'hold'; ms: number };

export type Fault = StatusFault | BodyFault | WarningFault | RangeFault | RevokeFault | HoldFault;

export interface RequestFacts {
  kind: RequestKind;
  method: string;
  path: string;
}

/** A fault with its own match counter. */
export class ArmedFault {
  private seen = 0;
  constructor(readonly fault: Fault) {}

  /** True when this request's facts fit the fault's filter (before nth/times). */
  fits(facts: RequestFacts): boolean {
    const { fault } = this;
    const kind = fault.kind ?? 'blob';
    const method = fault.method ?? (fault.type === 'status' || fault.type === 'warning' ? 'any' : 'GET');
    if (kind !== 'any' && kind !== facts.kind) return false;
    if (method !== 'any' && method.toUpperCase() !== facts.method) return false;
    return fault.pathIncludes === undefined || facts.path.includes(fault.pathIncludes);
  }

  /** Counts one matching request and says whether the fault applies to it. */
  take(): boolean {
    this.seen++;
    const { nth, times } = this.fault;
    if (nth !== undefined) return this.seen === nth;
    if (times !== undefined) return this.seen <= times;
    return true;
  }
}

export function describeFault(fault: Fault): string {
  switch (fault.type) {
    case 'status':
      return `status:${fault.status}`;
    case 'reset':
    case 'truncate':
      return `${fault.type}:${fault.afterBytes}`;
    case 'slow':
      return `slow:${fault.bytesPerSecond}`;
    case 'flip':
      return `flip:${fault.atByte ?? 'middle'}`;
    case 'redirect':
      return `redirect:${fault.to}`;
    case 'warning':
      return 'warning';
    case 'ignore-range':
      return 'ignore-range';
    case 'revoke-token':
      return 'revoke-token';
    case 'hold':
      return `hold:${fault.ms}`;
  }
}

/** Registry-style JSON error body for a status fault. */
export function statusFaultBody(status: number): string {
  const code = status === 429 ? 'TOOMANYREQUESTS' : status === 503 ? 'UNAVAILABLE' : 'UNKNOWN';
  return JSON.stringify({ errors: [{ code, message: `rig fault: HTTP ${status}`, detail: null }] });
}

/** Classifies a registry API path (`/v2/...`). */
export function classify(path: string): { kind: RequestKind; repository: string | undefined } {
  if (path === '/v2' || path === '/v2/') return { kind: 'ping', repository: undefined };
  if (path === '/v2/_catalog') return { kind: 'catalog', repository: undefined };
  const match = /^\/v2\/(.+?)\/(manifests|blobs\/uploads|blobs|tags|referrers)(\/.*)?$/.exec(path);
  if (!match) return { kind: 'other', repository: undefined };
  const kinds: Record<string, RequestKind> = {
    manifests: 'manifest',
    'blobs/uploads': 'upload',
    blobs: 'blob',
    tags: 'tags',
    referrers: 'referrers',
  };
  return { kind: kinds[match[2]!] ?? 'other', repository: match[1] };
}
