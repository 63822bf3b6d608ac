// Typed failures of the daemon, each carrying the Engine API status it maps to (moby's errdefs classes).

export abstract class DaemonError extends Error {
  abstract readonly statusCode: number;
}

export class InvalidParameterError extends DaemonError {
  override readonly name = 'InvalidParameterError';
  readonly statusCode = 400;
}

export class NotFoundError extends DaemonError {
  override readonly name = 'NotFoundError';
  readonly statusCode = 404;
}

export class ConflictError extends DaemonError {
  override readonly name = 'ConflictError';
  readonly statusCode = 409;
}

export class ForbiddenError extends DaemonError {
  override readonly name = 'ForbiddenError';
  readonly statusCode = 403;
}

export class NotImplementedError extends DaemonError {
  override readonly name = 'NotImplementedError';
  readonly statusCode = 501;
}

export class UnauthorizedError extends DaemonError {
  override readonly name = 'UnauthorizedError';
  readonly statusCode = 401;
}

export class InternalError extends DaemonError {
  override readonly name = 'InternalError';
  readonly statusCode = 500;
}

/** The API client declined a challenge put in its stream; the operation ends with the client's reason. */
export class ChallengeDeclinedError extends DaemonError {
  override readonly name = 'ChallengeDeclinedError';
  readonly statusCode = 401;
  constructor(
    readonly registry: string,
    readonly reason: string,
  ) {
    super(
      `the client declined to answer the challenge of registry ${registry}: ${reason || 'no reason given'}`,
    );
  }
}

/** Nobody answered a challenge put in the stream before the deadline (--auth-challenge-timeout). */
export class ChallengeTimeoutError extends DaemonError {
  override readonly name = 'ChallengeTimeoutError';
  readonly statusCode = 401;
  constructor(
    readonly registry: string,
    readonly timeoutSeconds: number,
  ) {
    super(`no answer to the challenge of registry ${registry} within ${timeoutSeconds} s`);
  }
}

/**
 * A registry answered 401 and, in clientAuth mode, the daemon must hand the challenge to its API client instead of
 * negotiating. `lines` are the registry's WWW-Authenticate values exactly as received (empty when it sent none).
 */
export class RegistryChallengeError extends DaemonError {
  override readonly name = 'RegistryChallengeError';
  readonly statusCode = 401;
  constructor(
    readonly registry: string,
    readonly repository: string,
    readonly lines: string[],
    message: string,
  ) {
    super(message);
  }
}
