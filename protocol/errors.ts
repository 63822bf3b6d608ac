// Every failure the protocol layer reports. Each error names the input field it is about and a short reason,
// so callers can branch on `reason` and users read a message that says what was wrong. No message ever
// contains a password, token or Authorization value.

/** Base class: `field` is the input that was wrong, `reason` a stable machine-readable code. */
export class ProtocolError extends Error {
  readonly field: string;
  readonly reason: string;

  constructor(field: string, reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.field = field;
    this.reason = reason;
  }
}

export type ReferenceErrorReason =
  | 'empty'
  | 'format'
  | 'uppercase'
  | 'name-too-long'
  | 'hex-identifier'
  | 'digest-format'
  | 'digest-length'
  | 'digest-unsupported';

/** An image reference that distribution/reference would refuse. The message keeps Go's wording. */
export class InvalidReferenceError extends ProtocolError {
  readonly input: string;

  constructor(input: string, reason: ReferenceErrorReason, message: string) {
    super('reference', reason, message);
    this.input = input;
  }
}

export type DigestErrorReason = 'format' | 'length' | 'unsupported';

export class InvalidDigestError extends ProtocolError {
  constructor(reason: DigestErrorReason, message: string) {
    super('digest', reason, message);
  }
}

/** An `os[/arch[/variant]]` platform specifier that does not parse. */
export class InvalidPlatformError extends ProtocolError {
  readonly input: string;

  constructor(input: string, reason: 'format' | 'unknown', detail: string) {
    super('platform', reason, `invalid platform "${input}": ${detail}`);
    this.input = input;
  }
}

export class InvalidScopeError extends ProtocolError {
  constructor(field: 'scope' | 'type' | 'class' | 'name' | 'actions', reason: string, message: string) {
    super(field, reason, message);
  }
}

/** A challenge that cannot be written as a WWW-Authenticate value (it would not parse back, or inject). */
export class ChallengeFormatError extends ProtocolError {
  constructor(field: 'scheme' | 'params' | 'token68', message: string) {
    super(field, 'unformattable', message);
  }
}

/** The token endpoint answered with an error status, or could not be reached. */
export class TokenRequestError extends ProtocolError {
  /** HTTP status of the token endpoint, or undefined when no response arrived. */
  readonly status: number | undefined;

  constructor(
    status: number | undefined,
    reason: string,
    message: string,
    options?: ErrorOptions & { field?: string },
  ) {
    super(options?.field ?? 'token-response', reason, message, options);
    this.status = status;
  }
}

/** 401 from the token endpoint: the credential was refused. `details` is the server's own explanation. */
export class TokenUnauthorizedError extends TokenRequestError {
  readonly details: string | undefined;

  constructor(details: string | undefined) {
    super(
      401,
      'unauthorized',
      details ? `unauthorized: ${details}` : 'unauthorized: authentication required',
    );
    this.details = details;
  }
}

/** OAuth2 `invalid_grant`: the refresh token (or password grant) is no longer accepted. */
export class InvalidGrantError extends TokenRequestError {
  constructor(status: number) {
    super(status, 'invalid-grant', 'refresh token revoked or already used: log in again');
  }
}

/** An OAuth2 error answer (RFC 6749 5.2) to a device-code poll: `error` is the code (e.g. `slow_down`). */
export class OAuthErrorResponse extends TokenRequestError {
  readonly error: string;

  constructor(status: number, error: string, details: string | undefined) {
    super(status, 'oauth-error', `token endpoint answered ${error}${details ? `: ${details}` : ''}`);
    this.error = error;
  }
}

/** The token endpoint answered 2xx, but the body is not a usable token response. */
export class InvalidTokenResponseError extends TokenRequestError {
  constructor(status: number, field: string, reason: string, message: string) {
    super(status, reason, message, { field });
  }
}

/** A challenge's realm was refused before any credential was sent to it. */
export class RealmRefusedError extends ProtocolError {
  readonly realm: string;

  constructor(realm: string, reason: string, message: string) {
    super('realm', reason, message);
    this.realm = realm;
  }
}

/**
 * A connection the address policy stopped before it was made: every address `hostname` resolved to is in a refused
 * class. `reason` is the class of the first; callers name the request it was for (RealmRefusedError for a token
 * realm, the daemon's RedirectRefusedError for a redirect target).
 */
export class AddressRefusedError extends ProtocolError {
  readonly hostname: string;

  constructor(hostname: string, reason: string, message: string) {
    super('address', reason, message);
    this.hostname = hostname;
  }
}
