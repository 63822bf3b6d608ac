// Recognises the two ways the daemon relays a registry challenge (clientAuth mode) and turns each into
// RegistryChallenged: an HTTP 401 before the stream started, or a final stream message after it had.

import {
  type AuthChallengeBody,
  type AuthChallengeInfo,
  REGISTRY_HOST_HEADER,
  WWW_AUTHENTICATE_HEADER,
} from '../api-spec/index.ts';
import { RegistryChallenged } from './challenge.ts';
import type { EngineApiError } from './errors.ts';

/** The challenge an HTTP error carries, or undefined when it is an ordinary error (no WWW-Authenticate line). */
export function challengeFromHttpError(error: EngineApiError): RegistryChallenged | undefined {
  if (error.status !== 401) return undefined;
  const body = readBody(error.body);
  const headerLines = error.headers[WWW_AUTHENTICATE_HEADER];
  // The body keeps the lines exactly; headers are the fallback for a proxy that dropped the body.
  const lines =
    body.challenges ?? (Array.isArray(headerLines) ? headerLines : headerLines ? [headerLines] : []);
  const hostHeader = error.headers[REGISTRY_HOST_HEADER];
  const registry = (Array.isArray(hostHeader) ? hostHeader[0] : hostHeader) || body.registry;
  if (lines.length === 0 || !registry) return undefined;
  return new RegistryChallenged(registry, body.repository ?? '', lines, error.message, { cause: error });
}

/** The challenge a final stream message carries (errorDetail 401 + aux.authChallenge). */
export function challengeFromStream(
  info: AuthChallengeInfo,
  message: string,
): RegistryChallenged | undefined {
  const lines = info.challenges.filter((line): line is string => typeof line === 'string');
  if (lines.length === 0) return undefined;
  return new RegistryChallenged(
    info.registry,
    typeof info.repository === 'string' ? info.repository : '',
    lines,
    message,
  );
}

function readBody(body: unknown): Partial<AuthChallengeBody> {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const out: Partial<AuthChallengeBody> = {};
  if (typeof b['registry'] === 'string') out.registry = b['registry'];
  if (typeof b['repository'] === 'string') out.repository = b['repository'];
  if (Array.isArray(b['challenges']) && b['challenges'].every((l) => typeof l === 'string')) {
    out.challenges = b['challenges'] as string[];
  }
  return out;
}
