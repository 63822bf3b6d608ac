// retry.ts: the one retry layer, counted at the registry.
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../../daemon/distribution/transport/http1-response.ts';
import {
  ResponseClosedError,
  WireTimeoutError,
} from '../../../../daemon/distribution/transport/http1-wire.ts';
import { isRetryableError } from '../../../../daemon/distribution/transport/retry.ts';
import { RegistryTransport } from '../../../../daemon/distribution/transport/transport.ts';
import { type FakeRegistry, startFakeRegistry } from '../fake-registry.ts';
import { endpointAt, request, stubAuthorizer } from '../stub-authorizer.ts';

const retry = { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 50 };
let registry: FakeRegistry;
let transport: RegistryTransport;
beforeEach(async () => {
  registry = await startFakeRegistry();
  transport = new RegistryTransport({ limits: { retry } });
});
afterEach(async () => {
  await transport.close();
  await registry.close();
});

describe('retry', () => {
  it('retries 503 and 429 (Retry-After honoured) until an answer, reporting each wait', async () => {
    let n = 0;
    registry.handle((_req, res) => {
      n++;
      if (n === 1) res.writeHead(503).end();
      else if (n === 2) res.writeHead(429, { 'retry-after': '0' }).end();
      else res.writeHead(200).end('ok');
    });
    const notices: number[] = [];
    const response = await transport.send(endpointAt(registry.origin), stubAuthorizer(''), {
      ...request('/v2/'),
      onRetry: (notice) => notices.push(notice.attempt),
    });
    expect(await text(response.body)).toBe('ok');
    expect(registry.seen).toHaveLength(3);
    expect(notices).toEqual([1, 2]);
  });

  it('gives up after maxRetries: 1 + 2 attempts, and hands back the last answer', async () => {
    registry.handle((_req, res) => res.writeHead(502).end());
    const response = await transport.send(endpointAt(registry.origin), stubAuthorizer(''), request('/v2/'));
    expect(response.statusCode).toBe(502);
    await response.body.dump();
    expect(registry.seen).toHaveLength(3);
  });

  it('does not retry what cannot be replayed', async () => {
    registry.handle((_req, res) => res.writeHead(503).end());
    const response = await transport.send(endpointAt(registry.origin), stubAuthorizer(''), {
      ...request('/v2/r/blobs/uploads/'),
      method: 'POST',
    });
    await response.body.dump();
    expect(registry.seen).toHaveLength(1);
  });
});

describe('retry on the bulk wire', () => {
  it('retries a connection cut before the head (DOCKHAND_RESPONSE_CLOSED) until an answer', async () => {
    let n = 0;
    registry.handle((req, res) => {
      n++;
      if (n === 1) req.socket.destroy();
      else res.writeHead(200).end('ok');
    });
    const response = await transport.send(endpointAt(registry.origin), stubAuthorizer(''), {
      ...request('/v2/r/blobs/sha256:00'),
      bulk: true,
    });
    expect(await text(response.body)).toBe('ok');
    expect(registry.seen).toHaveLength(2);
  });

  it('retries a registry that never answers (DOCKHAND_HEADERS_TIMEOUT)', async () => {
    const short = new RegistryTransport({ limits: { retry, idleTimeoutMs: 250 } });
    let n = 0;
    registry.handle((_req, res) => {
      n++;
      if (n > 1) res.writeHead(200).end('ok');
    });
    try {
      const response = await short.send(endpointAt(registry.origin), stubAuthorizer(''), {
        ...request('/v2/r/blobs/sha256:00'),
        bulk: true,
      });
      expect(await text(response.body)).toBe('ok');
      expect(registry.seen).toHaveLength(2);
    } finally {
      await short.close();
    }
  });

  it('counts every bulk wire failure a cut or an idle connection makes as retryable, a malformed answer not', () => {
    expect(isRetryableError(new ResponseClosedError('cut'))).toBe(true);
    for (const code of [
      'DOCKHAND_CONNECT_TIMEOUT',
      'DOCKHAND_HEADERS_TIMEOUT',
      'DOCKHAND_BODY_TIMEOUT',
    ] as const) {
      expect(isRetryableError(new WireTimeoutError(code, 'idle'))).toBe(true);
    }
    expect(isRetryableError(new MalformedResponseError('bad'))).toBe(false);
  });
});
