// Redirects are followed by hand, so each hop is decided again: its authorization (the authorize part below sees
// the hop's own origin), its address (the realm policy's classes: no link-local, private, unspecified or loopback
// target unless the registry itself is there, or both are loopback), and its scheme (https to http after a
// credential was sent is refused). A refused target gets no request at all. The address check here resolves the
// target's name for a clear error early; it is not the guard: the name is resolved again when the connection is
// made, where network.ts's guarded pool checks the address actually connected to (DNS rebinding).

import { isIP } from 'node:net';
import { bareHostname, connectRefusal, type Resolver } from '../../../protocol/index.ts';
import { RedirectRefusedError } from '../errors.ts';
import type { Part, RegistryResponse } from './round-trip.ts';

const MAX_REDIRECTS = 5;

export const redirect =
  (resolve: Resolver): Part =>
  (next) =>
  async (exchange) => {
    let hop = { ...exchange, body: exchange.request.body?.() };
    for (let n = 0; ; n++) {
      const response = await next(hop);
      const location = response.headers.location;
      if (response.statusCode < 300 || response.statusCode >= 400 || typeof location !== 'string')
        return response;
      await response.body.dump();
      if (n >= MAX_REDIRECTS) {
        throw new RedirectRefusedError(
          exchange.endpoint.host,
          hop.url,
          `more than ${MAX_REDIRECTS} redirects`,
        );
      }
      const target = new URL(location, hop.url);
      await checkTarget(resolve, exchange.endpoint.host, hop.url, target, response);
      hop =
        response.statusCode === 303
          ? { ...hop, url: target, method: 'GET', body: undefined }
          : { ...hop, url: target, body: exchange.request.body?.() };
    }
  };

async function checkTarget(
  resolve: Resolver,
  registry: string,
  from: URL,
  target: URL,
  response: RegistryResponse,
): Promise<void> {
  const refuse = (reason: string) => new RedirectRefusedError(registry, target, reason);
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw refuse('not http or https');
  if (target.username !== '' || target.password !== '') throw refuse('the target embeds credentials');
  if (from.protocol === 'https:' && target.protocol === 'http:' && response.authorization !== undefined) {
    throw refuse('https to plain http after a credential was sent');
  }
  for (const address of await addressesOf(resolve, target.hostname)) {
    const refusal = connectRefusal(target.hostname, address, registry);
    if (refusal) throw refuse(refusal.message);
  }
}

/** The addresses a redirect target would be reached at: an IP literal as is, a name as DNS resolves it now. */
async function addressesOf(resolve: Resolver, hostname: string): Promise<string[]> {
  const bare = bareHostname(hostname);
  if (isIP(bare) !== 0 || bare === 'localhost' || bare.endsWith('.localhost')) return [bare];
  const found = await resolve(bare).catch(() => []);
  return found.length > 0 ? found.map((a) => a.address) : [bare];
}
