// deadline.ts and network.ts: a registry that accepts and never answers ends the request in the configured time,
// each try cut by the idle timeout and the whole by the request deadline.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryTimeoutError } from '../../../../daemon/distribution/errors.ts';
import { RegistryTransport } from '../../../../daemon/distribution/transport/transport.ts';
import { type FakeRegistry, startFakeRegistry } from '../fake-registry.ts';
import { endpointAt, request, stubAuthorizer } from '../stub-authorizer.ts';

let registry: FakeRegistry;
beforeEach(async () => {
  registry = await startFakeRegistry();
  registry.handle(() => {});
});
afterEach(async () => {
  await registry.close();
});

describe('deadlines', () => {
  it('the idle timeout ends each try, and the retries are counted at the registry', async () => {
    const transport = new RegistryTransport({
      limits: { retry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 10 }, idleTimeoutMs: 200 },
    });
    const error = await transport
      .send(endpointAt(registry.origin), stubAuthorizer(''), request('/v2/'))
      .catch((e: unknown) => e);
    await transport.close();
    expect((error as Error).message).toMatch(/idle timeout: no answer from .* within 200 ms/);
    expect(registry.seen).toHaveLength(3);
  });

  it('the request deadline ends the request, retries and waits included', async () => {
    const transport = new RegistryTransport({
      limits: {
        retry: { maxRetries: 10, baseDelayMs: 10, maxDelayMs: 10 },
        idleTimeoutMs: 200,
        requestTimeoutMs: 500,
      },
    });
    const error = await transport
      .send(endpointAt(registry.origin), stubAuthorizer(''), request('/v2/'))
      .catch((e: unknown) => e);
    await transport.close();
    expect(error).toBeInstanceOf(RegistryTimeoutError);
    expect(registry.seen.length).toBeLessThanOrEqual(3);
  });
});
