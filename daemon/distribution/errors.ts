// Failures of registry access, typed so the image service can word them as dockerd does and give them an Engine API
// status (daemon/images/engine-errors.ts). Nothing here knows about HTTP statuses of the Engine API.

/** The registry refused the request after authorization was tried (a second 401, or a 401 we cannot answer). */
export class RegistryUnauthorizedError extends Error {
  override readonly name = 'RegistryUnauthorizedError';
  constructor(
    readonly host: string,
    readonly repository: string,
    readonly lines: string[],
    message: string,
    /** The registry's error code in the last challenge, e.g. insufficient_scope. */
    readonly challengeError?: string,
  ) {
    super(message);
  }

  /** The same failure, worded as Go's url.Error when it happened while sending `method url` (dockerd's wording). */
  at(method: string, url: URL): RegistryUnauthorizedError {
    return new RegistryUnauthorizedError(
      this.host,
      this.repository,
      this.lines,
      urlErrorMessage(method, url, this.message),
      this.challengeError,
    );
  }
}

/** What a registry request was about, so failures are classified by these fields and never by their text. */
export type RegistryResource = 'manifest' | 'blob' | 'upload' | 'ping' | 'tags';

/** A non-2xx answer that is not an auth failure. `code` is the registry's first error code (MANIFEST_UNKNOWN, …). */
export class RegistryResponseError extends Error {
  override readonly name = 'RegistryResponseError';
  constructor(
    readonly host: string,
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    readonly method: string,
    readonly resource: RegistryResource,
    /** The registry's Retry-After, for a status worth retrying. */
    readonly retryAfter?: string,
  ) {
    super(message);
  }
}

/** A redirect the daemon will not follow; the target got no request. */
export class RedirectRefusedError extends Error {
  override readonly name = 'RedirectRefusedError';
  constructor(
    readonly registry: string,
    target: URL,
    readonly reason: string,
  ) {
    // The target as shown: origin and path, never a query (pre-signed URLs carry credentials there).
    super(
      `redirect from ${registry} to ${target.protocol}//${target.host}${target.pathname} refused: ${reason}`,
    );
  }
}

/** A request got no answer within its overall deadline (retries included). */
export class RegistryTimeoutError extends Error {
  override readonly name = 'RegistryTimeoutError';
  constructor(
    method: string,
    url: URL,
    readonly ms: number,
  ) {
    super(urlErrorMessage(method, url, `no answer within ${ms / 1000}s (registry request timeout)`));
  }
}

/**
 * clientAuth: a registry answered 401 and the daemon does not negotiate; the challenge goes to the API client.
 * `lines` are the registry's WWW-Authenticate values exactly as received (empty when it sent none).
 */
export class ForwardedChallengeError extends Error {
  override readonly name = 'ForwardedChallengeError';
  constructor(
    readonly registry: string,
    readonly repository: string,
    readonly lines: string[],
    message: string,
  ) {
    super(message);
  }
}

/** An index has no manifest for the platform asked for (or names another index where a manifest belongs). */
export class PlatformNotFoundError extends Error {
  override readonly name = 'PlatformNotFoundError';
}

/** A push names a repository (and tag) that has no image in the store. */
export class LocalImageNotFoundError extends Error {
  override readonly name = 'LocalImageNotFoundError';
  constructor(readonly familiarName: string) {
    super(`An image does not exist locally with the tag: ${familiarName}`);
  }
}

/** The registry refused the credentials of a login (POST /auth); the message is worded as dockerd words it. */
export class LoginRefusedError extends Error {
  override readonly name = 'LoginRefusedError';
}

/**
 * The request never got an answer (refused, reset, TLS). Worded as Go's url.Error, which dockerd prints:
 * `Get "https://host/v2/": reason`. The original error stays the cause, so retries still see its code.
 */
export class RegistryConnectionError extends Error {
  override readonly name = 'RegistryConnectionError';
  constructor(method: string, url: URL, cause: unknown) {
    super(urlErrorMessage(method, url, connectionReason(cause)), { cause });
  }
}

/** Go's url.Error text: `Get "https://host/v2/": reason`. */
function urlErrorMessage(method: string, url: URL, reason: string): string {
  return `${method[0]}${method.slice(1).toLowerCase()} "${url.href}": ${reason}`;
}

function connectionReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  // What Go says, and where to look: the host is plain HTTP but not marked insecure.
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return 'http: server gave HTTP response to HTTPS client (a plain-HTTP registry needs --insecure-registry)';
  }
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && TLS_TRUST_CODES.has(code)) {
    return `tls: ${message} (trust its CA with certs.d/<host:port>/ca.crt)`;
  }
  return dialReason(error) ?? message;
}

/** Go's net.Dial wording of the usual socket failures, which dockerd prints: `dial tcp 1.2.3.4:5000: connect: …`. */
const DIAL_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connect: connection refused',
  EHOSTUNREACH: 'connect: no route to host',
  ENETUNREACH: 'connect: network is unreachable',
  ETIMEDOUT: 'i/o timeout',
};

function dialReason(error: unknown): string | undefined {
  // Both addresses of a name (IPv6 and IPv4) refused: Go reports the first.
  const first = error instanceof AggregateError ? error.errors[0] : error;
  const { code, address, port, hostname } = (first ?? {}) as {
    code?: unknown;
    address?: unknown;
    port?: unknown;
    hostname?: unknown;
  };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return typeof hostname === 'string' ? `dial tcp: lookup ${hostname}: no such host` : undefined;
  }
  const text = typeof code === 'string' ? DIAL_ERRORS[code] : undefined;
  if (text === undefined || typeof address !== 'string') return undefined;
  const target = address.includes(':') ? `[${address}]` : address;
  return `dial tcp ${target}${typeof port === 'number' ? `:${port}` : ''}: ${text}`;
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);
