// challenge.ts: a 401 goes to the authorizer once; a second 401 fails, with the registry's text masked.
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryUnauthorizedError } from '../../../../daemon/distribution/errors.ts';
import { RegistryTransport } from '../../../../daemon/distribution/transport/transport.ts';
import { type FakeRegistry, startFakeRegistry } from '../fake-registry.ts';
import { endpointAt, request, stubAuthorizer } from '../stub-authorizer.ts';

const CHALLENGE = 'Bearer realm="http://127.0.0.1:1/token",service="s"';
let registry: FakeRegistry;
let transport: RegistryTransport;
beforeEach(async () => {
  registry = await startFakeRegistry();
  transport = new RegistryTransport();
});
afterEach(async () => {
  await transport.close();
  await registry.close();
});

describe('challenge', () => {
  it('answers a 401 through the authorizer, then sends the request once more', async () => {
    registry.handle((req, res) => {
      if (req.headers.authorization) res.writeHead(200).end('ok');
      else res.writeHead(401, { 'www-authenticate': CHALLENGE }).end();
    });
    const authorizer = stubAuthorizer(registry.origin);
    let challenged = false;
    const response = await transport.send(
      endpointAt(registry.origin),
      {
        ...authorizer,
        authorization: async (r) => (challenged ? authorizer.authorization(r) : undefined),
        challenged: async (r, lines) => {
          challenged = true;
          await authorizer.challenged(r, lines);
        },
      },
      request('/v2/r/manifests/1'),
    );
    expect(await text(response.body)).toBe('ok');
    expect(authorizer.challenges).toEqual([{ origin: registry.origin, lines: [CHALLENGE] }]);
    expect(registry.seen).toHaveLength(2);
  });

  it('a second 401 fails, and a credential the registry repeats is masked in the error', async () => {
    registry.handle((req, res) =>
      res
        .writeHead(401, { 'www-authenticate': CHALLENGE, 'content-type': 'application/json' })
        .end(
          JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: `bad ${req.headers.authorization}` }] }),
        ),
    );
    const error = await transport
      .send(endpointAt(registry.origin), stubAuthorizer(registry.origin), request('/v2/r/manifests/1'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryUnauthorizedError);
    expect((error as Error).message).toContain('bad Bearer ***');
    expect((error as Error).message).not.toContain('stub-token-123');
    expect(registry.seen).toHaveLength(2);
  });
});
