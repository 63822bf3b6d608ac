// An authorizer for transport tests: a fixed Authorization for one origin, and a record of what it was asked.

import type { Authorizer, AuthRequest } from '../../../daemon/distribution/auth/authorizer.ts';
import type { Endpoint } from '../../../daemon/distribution/endpoint.ts';
import { Secrets } from '../../../daemon/distribution/transport/sanitize.ts';

export interface StubAuthorizer extends Authorizer {
  asked: string[];
  challenges: { origin: string; lines: string[] }[];
}

export function stubAuthorizer(origin: string, authorization = 'Bearer stub-token-123'): StubAuthorizer {
  const secrets = new Secrets();
  secrets.add(authorization.split(' ')[1]);
  const asked: string[] = [];
  const challenges: { origin: string; lines: string[] }[] = [];
  return {
    asked,
    challenges,
    async authorization(request: AuthRequest) {
      asked.push(request.endpoint.origin);
      return request.endpoint.origin === origin ? authorization : undefined;
    },
    async challenged(request: AuthRequest, lines: string[]) {
      challenges.push({ origin: request.endpoint.origin, lines });
    },
    secrets: () => secrets,
  };
}

export function endpointAt(origin: string): Endpoint {
  const url = new URL(origin);
  return { host: url.host, origin: url.origin, secure: url.protocol === 'https:' };
}

export const request = (path: string) => ({ method: 'GET' as const, path, scopes: [], repository: 'r' });
