// The registry-credential parts of a request: X-Registry-Auth (refused with a 400 when undecodable, never silently
// dropped into an anonymous pull as moby does), the clientAuth switch and its authChannel opt-in.
import type { FastifyRequest } from 'fastify';
import { AUTH_CHANNEL_PARAM } from '../../api-spec/auth-challenge.ts';
import { AUTH_HEADER, type AuthConfig, decodeAuthConfig } from '../../api-spec/auth-config.ts';
import { parseBoolParam } from '../../api-spec/bool-param.ts';
import type { AuthMode } from '../images/image-service.ts';
import type { PendingChallenges } from './pending-challenges.ts';
import { StreamChannel } from './stream-channel.ts';

export function registryAuthOf(request: FastifyRequest): AuthConfig {
  const header = request.headers[AUTH_HEADER];
  return decodeAuthConfig(Array.isArray(header) ? header.join(',') : header);
}

export function clientAuthOf(request: FastifyRequest): boolean {
  return parseBoolParam((request.query as { clientAuth?: string }).clientAuth);
}

export function authModeOf(request: FastifyRequest): AuthMode {
  return { auth: registryAuthOf(request), clientAuth: clientAuthOf(request) };
}

/** The side channel of a streamed clientAuth operation, when its client opted in (authChannel). */
export function streamChannelOf(
  request: FastifyRequest,
  challenges: PendingChallenges,
  signal: AbortSignal,
): StreamChannel | undefined {
  const query = request.query as Record<string, string | undefined>;
  if (!clientAuthOf(request) || !parseBoolParam(query[AUTH_CHANNEL_PARAM])) return undefined;
  return new StreamChannel(challenges, signal);
}
