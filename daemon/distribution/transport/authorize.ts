// Each hop carries only what the authorizer gives for that hop's own origin (scheme, host and port): a redirect
// to another origin, or from https to http on the same host, starts without the registry's credential.

import { endpointOf } from '../endpoint.ts';
import type { Part } from './round-trip.ts';

export const authorize: Part = (next) => async (exchange) => {
  const authorization = await exchange.authorizer.authorization({
    endpoint: endpointOf(exchange.endpoint, exchange.url),
    scopes: exchange.request.scopes,
    repository: exchange.request.repository,
    ...(exchange.signal ? { signal: exchange.signal } : {}),
  });
  const headers = { ...exchange.headers };
  delete headers['authorization'];
  if (authorization) headers['authorization'] = authorization;
  const response = await next({ ...exchange, headers });
  return Object.assign(response, { authorization });
};
