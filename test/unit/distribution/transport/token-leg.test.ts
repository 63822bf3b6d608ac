// token-leg.ts: token requests leave through the same door: the daemon's User-Agent, the same retries.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryTransport } from '../../../../daemon/distribution/transport/transport.ts';
import { type FakeRegistry, startFakeRegistry } from '../fake-registry.ts';
import { endpointAt } from '../stub-authorizer.ts';

let tokenServer: FakeRegistry;
let transport: RegistryTransport;
beforeEach(async () => {
  tokenServer = await startFakeRegistry();
  transport = new RegistryTransport({
    userAgent: 'dockhand/test',
    limits: { retry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 10 } },
  });
});
afterEach(async () => {
  await transport.close();
  await tokenServer.close();
});

describe('token leg', () => {
  it('sends the User-Agent and retries a 503 from the token server', async () => {
    let n = 0;
    tokenServer.handle((_req, res) => {
      if (++n === 1) res.writeHead(503).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t0k3n-value"}');
    });
    const answer = await transport.tokens.fetch(
      { realm: `${tokenServer.origin}/token`, scopes: [], credential: { kind: 'anonymous' } },
      endpointAt(tokenServer.origin),
    );
    expect(answer.token).toBe('t0k3n-value');
    expect(tokenServer.seen.map((r) => r.headers['user-agent'])).toEqual(['dockhand/test', 'dockhand/test']);
  });

  it('does not retry a refusal', async () => {
    tokenServer.handle((_req, res) => res.writeHead(401).end('{"details":"no"}'));
    await expect(
      transport.tokens.fetch(
        { realm: `${tokenServer.origin}/token`, scopes: [], credential: { kind: 'anonymous' } },
        endpointAt(tokenServer.origin),
      ),
    ).rejects.toThrow('unauthorized');
    expect(tokenServer.seen).toHaveLength(1);
  });
});
