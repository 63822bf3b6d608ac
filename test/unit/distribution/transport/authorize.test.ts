// authorize.ts: each hop carries only what the authorizer gives for the hop's own origin.
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryTransport } from '../../../../daemon/distribution/transport/transport.ts';
import { type FakeRegistry, startFakeRegistry } from '../fake-registry.ts';
import { endpointAt, request, stubAuthorizer } from '../stub-authorizer.ts';

let registry: FakeRegistry;
let other: FakeRegistry;
let transport: RegistryTransport;
beforeEach(async () => {
  registry = await startFakeRegistry();
  other = await startFakeRegistry();
  transport = new RegistryTransport();
});
afterEach(async () => {
  await transport.close();
  await registry.close();
  await other.close();
});

describe('authorize', () => {
  it('sends the credential to its origin, and not to another port of the same host', async () => {
    registry.handle((req, res) => {
      if (req.url === '/v2/r/blobs/x') res.writeHead(307, { location: `${other.origin}/blob` }).end();
      else res.writeHead(404).end();
    });
    other.handle((_req, res) => res.writeHead(200).end('ok'));
    const authorizer = stubAuthorizer(registry.origin);
    const response = await transport.send(endpointAt(registry.origin), authorizer, request('/v2/r/blobs/x'));
    expect(await text(response.body)).toBe('ok');
    expect(registry.seen[0]?.headers.authorization).toBe('Bearer stub-token-123');
    expect(other.seen[0]?.headers.authorization).toBeUndefined();
    expect(authorizer.asked).toEqual([registry.origin, other.origin]);
  });

  it('replaces an Authorization the caller put in the headers', async () => {
    registry.handle((_req, res) => res.writeHead(200).end());
    const authorizer = stubAuthorizer('http://elsewhere:1');
    const response = await transport.send(endpointAt(registry.origin), authorizer, {
      ...request('/v2/'),
      headers: { authorization: 'Basic c3RvbGVu' },
    });
    await response.body.dump();
    expect(registry.seen[0]?.headers.authorization).toBeUndefined();
  });
});
