// Registry-access failures given the Engine API status and wording dockerd 20.10 uses, checked against real
// registries. Classified by type and typed fields only; the one place distribution errors meet Engine API ones.

import {
  BodyTooLargeError,
  InvalidGrantError,
  RealmRefusedError,
  TokenRequestError,
  UnsupportedManifestError,
} from '../../protocol/index.ts';
import {
  ForwardedChallengeError,
  LocalImageNotFoundError,
  LoginRefusedError,
  PlatformNotFoundError,
  RegistryResponseError,
  RegistryUnauthorizedError,
} from '../distribution/errors.ts';
import {
  DaemonError,
  ForbiddenError,
  InternalError,
  NotFoundError,
  RegistryChallengeError,
  UnauthorizedError,
} from '../errors.ts';

/** The repository operation a failure belongs to, for dockerd's wording (none for a login). */
export type Operation = { kind: 'pull' | 'push'; familiarName: string; familiarRef: string };

export function engineError(err: unknown, op?: Operation): unknown {
  if (err instanceof DaemonError) return err;
  if (err instanceof ForwardedChallengeError) {
    return new RegistryChallengeError(err.registry, err.repository, err.lines, err.message);
  }
  if (err instanceof LoginRefusedError) return new UnauthorizedError(err.message);
  if (err instanceof LocalImageNotFoundError || err instanceof PlatformNotFoundError) {
    return new NotFoundError(err.message);
  }
  if (err instanceof RegistryUnauthorizedError) {
    // A token that does not grant push (a partial grant): what dockerd prints for a repository the user may only
    // read.
    if (op?.kind === 'push' && err.challengeError === 'insufficient_scope') {
      return new UnauthorizedError('denied: requested access to the resource is denied');
    }
    if (op?.kind === 'push') {
      return new UnauthorizedError(`push access denied for ${op.familiarName}: ${err.message}`);
    }
    if (op && err.lines.some((l) => /^\s*bearer/i.test(l))) {
      return new NotFoundError(
        `pull access denied for ${op.familiarName}, repository does not exist or may require 'docker login': ` +
          'denied: requested access to the resource is denied',
      );
    }
    return new InternalError(err.message);
  }
  if (err instanceof RegistryResponseError) {
    if (!op) return new InternalError(err.message);
    if (err.status === 404 && err.code === 'MANIFEST_UNKNOWN') {
      return new NotFoundError(`manifest for ${op.familiarRef} not found: manifest unknown: ${err.message}`);
    }
    // A HEAD has no body to name the error: dockerd, which GETs, reports the registry's manifest unknown.
    if (
      err.status === 404 &&
      err.code === undefined &&
      err.method === 'HEAD' &&
      err.resource === 'manifest'
    ) {
      return new NotFoundError(
        `manifest for ${op.familiarRef} not found: manifest unknown: manifest unknown`,
      );
    }
    if (err.status === 404 && err.code === 'NAME_UNKNOWN') {
      return new NotFoundError(
        `${op.kind} access denied for ${op.familiarName}, repository does not exist or may require 'docker login'`,
      );
    }
    if (err.status === 404) return new NotFoundError(`${op.familiarRef}: not found: ${err.message}`);
    if (err.status === 403)
      return new ForbiddenError(`${op.kind} access denied for ${op.familiarName}: ${err.message}`);
    return new InternalError(err.message);
  }
  if (
    err instanceof InvalidGrantError ||
    err instanceof RealmRefusedError ||
    err instanceof TokenRequestError ||
    err instanceof BodyTooLargeError
  ) {
    return new InternalError(err.message);
  }
  if (err instanceof UnsupportedManifestError) return new InternalError(err.message);
  return err;
}
