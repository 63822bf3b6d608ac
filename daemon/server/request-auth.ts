// The registry-credential parts of a request: X-Registry-Auth (refused with a 400 when undecodable, never silently
// dropped into an anonymous pull as moby does) and the clientAuth switch.
import type { FastifyRequest } from 'fastify';
import { AUTH_HEADER, type AuthConfig, decodeAuthConfig } from '../../api-spec/auth-config.ts';
import { parseBoolParam } from '../../api-spec/bool-param.ts';
import type { AuthMode } from '../images/image-service.ts';

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
