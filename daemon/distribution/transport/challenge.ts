// No /v2/ ping first: every 401 from any endpoint is a challenge (registries challenge per repository even when
// /v2/ answers 200). The authorizer answers it (classic: a token fetched through this transport; clientAuth: the
// challenge goes to the API client) and the request is sent once more. A second 401 fails: never loop.

import { describeRegistryErrors } from '../../../protocol/index.ts';
import { endpointOf } from '../endpoint.ts';
import { RegistryUnauthorizedError } from '../errors.ts';
import { readCapped } from './read-body.ts';
import type { Part } from './round-trip.ts';

export const challenge: Part = (next) => async (exchange) => {
  const { request, authorizer } = exchange;
  const first = await next(exchange);
  if (first.statusCode !== 401) return first;
  await first.body.dump();
  const challenger = endpointOf(exchange.endpoint, first.url);
  const auth = {
    endpoint: challenger,
    scopes: request.scopes,
    repository: request.repository,
    ...(exchange.signal ? { signal: exchange.signal } : {}),
  };
  await authorizer
    .challenged(auth, challengeLines(first.headers['www-authenticate']), first.authorization)
    .catch((error: unknown) => {
      // Go's client fails inside the round trip, so dockerd names the request: `Head "url": no basic auth …`.
      throw error instanceof RegistryUnauthorizedError ? error.at(request.method, first.url) : error;
    });
  const second = await next(exchange);
  if (second.statusCode !== 401) return second;
  const body = await readCapped(second.body, 16 * 1024);
  const again = challengeLines(second.headers['www-authenticate']);
  throw new RegistryUnauthorizedError(
    challenger.host,
    request.repository,
    again,
    authorizer.secrets().mask(describeRegistryErrors(body).text ?? 'unauthorized: authentication required'),
    /error="([^"]*)"/.exec(again.join(' '))?.[1],
  );
};

export function challengeLines(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [header];
}
