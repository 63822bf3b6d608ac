// Every failure the SDK reports, typed so callers branch on the class instead of parsing messages.
// No message ever holds a password, token, Authorization or X-Registry-Auth value.

import type { AuthChallenge } from './challenge.ts';

// The token-endpoint and realm failures a built-in handler can reject with, and the invalid reference every call
// taking one can throw, so callers import them from one place.
export {
  InvalidGrantError,
  InvalidReferenceError,
  OAuthErrorResponse,
  RealmRefusedError,
  TokenRequestError,
} from '../protocol/errors.ts';

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** The daemon answered with an HTTP error status. Unlike dockerode, the response headers are kept. */
export class EngineApiError extends Error {
  override readonly name = 'EngineApiError';
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** The parsed JSON body when it was JSON (moby's `{message}`), else undefined. */
  readonly body: unknown;

  constructor(status: number, message: string, headers: ResponseHeaders, body: unknown) {
    super(message);
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
}

/** The operation had started (HTTP 200) and the stream ended with an errorDetail message. */
export class StreamError extends Error {
  override readonly name = 'StreamError';
  /** errorDetail.code when the daemon sent one (401 for a registry refusal, for example). */
  readonly code: number | undefined;

  constructor(message: string, code: number | undefined) {
    super(message);
    this.code = code;
  }
}

export type AuthChallengeGiveUp = 'no-handler' | 'declined' | 'max-rounds';

/** A registry challenge the SDK could not answer: no handler, the handler declined, or the rounds ran out. */
export class AuthChallengeError extends Error {
  override readonly name = 'AuthChallengeError';
  readonly reason: AuthChallengeGiveUp;
  readonly challenge: AuthChallenge;
  readonly registry: string;
  readonly repository: string;
  readonly lines: string[];
  readonly challenges: AuthChallenge['challenges'];
  readonly attempt: number;

  constructor(reason: AuthChallengeGiveUp, challenge: AuthChallenge, detail: string, options?: ErrorOptions) {
    super(`${detail} (registry ${challenge.registry}, repository ${challenge.repository || '-'})`, options);
    this.reason = reason;
    this.challenge = challenge;
    this.registry = challenge.registry;
    this.repository = challenge.repository;
    this.lines = challenge.lines;
    this.challenges = challenge.challenges;
    this.attempt = challenge.attempt;
  }
}

/**
 * The registry challenged again for the scope the last answer was for, and that answer's token (its JWT `access`
 * claim, or the token server's `scope`) grants less: the token server will not grant more, so the operation stops.
 */
export class PartialGrantError extends Error {
  override readonly name = 'PartialGrantError';
  readonly registry: string;
  readonly repository: string;
  /** What the registry asked for, e.g. ['pull', 'push']. */
  readonly actionsAsked: string[];
  /** What the token grants on that repository (empty: nothing). */
  readonly actionsGranted: string[];
  readonly challenge: AuthChallenge;

  constructor(
    challenge: AuthChallenge,
    action: 'pull' | 'push' | undefined,
    repository: string,
    asked: string[],
    granted: string[],
    options?: ErrorOptions,
  ) {
    const what =
      action === 'push'
        ? `push to ${repository}`
        : action === 'pull'
          ? `pull from ${repository}`
          : repository;
    super(
      `denied: ${what} needs ${asked.join(',')}; the token grants ${granted.length > 0 ? granted.join(',') : 'nothing'}`,
      options,
    );
    this.registry = challenge.registry;
    this.repository = repository;
    this.actionsAsked = asked;
    this.actionsGranted = granted;
    this.challenge = challenge;
  }
}

/** A request was made on an EngineClient after its close(). */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError';

  constructor() {
    super('the client is closed');
  }
}

/** DOCKER_HOST or an explicit address names something this SDK cannot connect to. */
export class DaemonAddressError extends Error {
  override readonly name = 'DaemonAddressError';
}

/** The daemon's API version is below what this SDK speaks. */
export class ApiVersionError extends Error {
  override readonly name = 'ApiVersionError';
}

/** A message in a stream (pull, push, events) is not the JSON object the protocol promises. */
export class InvalidStreamMessageError extends Error {
  override readonly name = 'InvalidStreamMessageError';
}

/** The `auth` option could not be read (an unknown shape, or a pre-encoded value that does not decode). */
export class InvalidAuthOptionError extends Error {
  override readonly name = 'InvalidAuthOptionError';
}

/** Another process held a store's lock for longer than the bounded wait. */
export class LockTimeoutError extends Error {
  override readonly name = 'LockTimeoutError';
  readonly lockPath: string;

  constructor(lockPath: string, waitedMs: number) {
    super(`timed out after ${waitedMs} ms waiting for the lock ${lockPath}`);
    this.lockPath = lockPath;
  }
}

/** A docker-credential-<name> helper failed; the message carries its stdout as docker's client does. */
export class CredentialHelperError extends Error {
  override readonly name = 'CredentialHelperError';
  readonly helper: string;
  readonly action: string;

  constructor(helper: string, action: string, message: string) {
    super(message);
    this.helper = helper;
    this.action = action;
  }
}

/** A store file (token store, docker config.json) exists but is not what it should be. */
export class InvalidStoreFileError extends Error {
  override readonly name = 'InvalidStoreFileError';
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`invalid ${path}: ${reason}`);
    this.path = path;
  }
}

/** `login` could not sign in to the registry (refused credentials, or an answer it cannot use). */
export class RegistryLoginError extends Error {
  override readonly name = 'RegistryLoginError';
  readonly registry: string;
  /** The registry's HTTP status, when the failure was one. */
  readonly status: number | undefined;

  constructor(registry: string, status: number | undefined, message: string) {
    super(message);
    this.registry = registry;
    this.status = status;
  }
}

export type DeviceLoginFailure = 'access_denied' | 'expired_token' | 'invalid_response' | 'server_error';

/** The device login ended without a token: the user denied it, the code expired, or the server misbehaved. */
export class DeviceLoginError extends Error {
  override readonly name = 'DeviceLoginError';
  readonly reason: DeviceLoginFailure;

  constructor(reason: DeviceLoginFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}
