// Registry failures worded as dockerd words them, with the status it uses (real-registry-facts.md, errors table).

import {
  InvalidGrantError,
  RealmRefusedError,
  TokenRequestError,
  UnsupportedManifestError,
} from '../../protocol/index.ts';
import { DaemonError, ForbiddenError, InternalError, NotFoundError, UnauthorizedError } from '../errors.ts';
import { RegistryResponseError, RegistryUnauthorizedError } from '../registry/errors.ts';

export type Operation = { kind: 'pull' | 'push'; familiarName: string; familiarRef: string };

export function mapRegistryError(err: unknown, op: Operation): unknown {
  if (err instanceof DaemonError) return err;
  if (err instanceof RegistryUnauthorizedError) {
    if (op.kind === 'push') {
      return new UnauthorizedError(`push access denied for ${op.familiarName}: ${err.message}`);
    }
    if (err.lines.some((l) => /^\s*bearer/i.test(l))) {
      return new NotFoundError(
        `pull access denied for ${op.familiarName}, repository does not exist or may require 'docker login': ` +
          'denied: requested access to the resource is denied',
      );
    }
    return new InternalError(err.message);
  }
  if (err instanceof RegistryResponseError) {
    if (err.status === 404 && err.code === 'MANIFEST_UNKNOWN') {
      return new NotFoundError(`manifest for ${op.familiarRef} not found: manifest unknown: ${err.message}`);
    }
    // A HEAD has no body to name the error: dockerd, which GETs, reports the registry's manifest unknown.
    if (err.status === 404 && err.code === undefined && err.message.startsWith('HEAD manifests/')) {
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
    err instanceof TokenRequestError
  ) {
    return new InternalError(err.message);
  }
  if (err instanceof UnsupportedManifestError) return new InternalError(err.message);
  return err;
}
