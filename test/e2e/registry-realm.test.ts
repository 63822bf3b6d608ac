// A registry whose challenge names a token realm on the cloud metadata address: the daemon refuses the realm with a
// clear error before opening any connection to it (no credential, not even a SYN, goes there).
import diagnostics from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAuthConfig } from '../../api-spec/auth-config.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';

const METADATA = '169.254.169.254';
const CHALLENGE = `Bearer realm="http://${METADATA}/token",service="x"`;

/** Every outgoing connection or request this process starts, seen by undici's and net's diagnostics channels. */
const outgoing: string[] = [];
const onRequest = (message: unknown) => {
  outgoing.push(`request ${(message as { request: { origin: string } }).request.origin}`);
};
const onConnect = (message: unknown) => {
  const { hostname, port } = (message as { connectParams: { hostname: string; port: string } }).connectParams;
  outgoing.push(`connect ${hostname}:${port}`);
};
const onSocket = (message: unknown) => {
  (message as { socket: Socket }).socket.on('connectionAttempt', (ip: string, port: number) => {
    outgoing.push(`socket ${ip}:${port}`);
  });
};

let server: Server;
let host: string;
let seen: { method: string; url: string; authorization: boolean }[] = [];
let daemon: TestDaemon;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: !!req.headers.authorization });
    req.resume();
    res.writeHead(401, {
      'www-authenticate': CHALLENGE,
      'content-type': 'application/json',
      'docker-distribution-api-version': 'registry/2.0',
    });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  host = `127.0.0.1:${address.port}`;
  daemon = await startTestDaemon();
  diagnostics.subscribe('undici:request:create', onRequest);
  diagnostics.subscribe('undici:client:beforeConnect', onConnect);
  diagnostics.subscribe('net.client.socket', onSocket);
});

afterAll(async () => {
  diagnostics.unsubscribe('undici:request:create', onRequest);
  diagnostics.unsubscribe('undici:client:beforeConnect', onConnect);
  diagnostics.unsubscribe('net.client.socket', onSocket);
  await daemon?.close();
  await new Promise<void>((resolve) => {
    server?.close(() => resolve());
    server?.closeAllConnections();
  });
});

describe('token realm policy', () => {
  // In order, on one daemon. A refused realm is never remembered, so the second pull asks the registry again
  // (unauthenticated) and the realm is refused again: one bad challenge does not stick to the host.
  const head = { method: 'HEAD', url: '/v2/x/manifests/1', authorization: false };
  // The second pull's HEAD goes over the connection the first one kept: no new connection to the registry then.
  const cases = [
    { auth: 'with credentials', registryRequests: [head], connects: true },
    { auth: 'anonymous, after a refused realm', registryRequests: [head], connects: false },
  ] as const;
  for (const { auth, registryRequests, connects } of cases) {
    it(`refuses a link-local realm (${auth}) with HTTP 500 and sends nothing to ${METADATA}`, async () => {
      seen = [];
      outgoing.length = 0;
      const client = new Client('http://localhost', { socketPath: daemon.socket });
      try {
        const query = new URLSearchParams({ fromImage: `${host}/x`, tag: '1' });
        const headers: Record<string, string> =
          auth !== 'with credentials'
            ? {}
            : {
                'x-registry-auth': encodeAuthConfig({ username: 'u', password: 'p', serveraddress: host }),
              };
        const response = await client.request({ method: 'POST', path: `/images/create?${query}`, headers });
        const body = (await response.body.json()) as { message: string };
        expect(response.statusCode).toBe(500);
        expect(body.message).toContain(`token realm http://${METADATA}/token refused`);
        expect(body.message).toContain(`${METADATA} is`);
      } finally {
        await client.close();
      }
      // One manifest HEAD, without a credential, draws the challenge each time.
      expect(seen).toEqual(registryRequests);
      // The watch works (it saw the daemon connect to the registry when it did), and nothing headed for the
      // metadata address.
      expect(outgoing.some((line) => line.includes(host))).toBe(connects);
      expect(outgoing.filter((line) => line.includes(METADATA))).toEqual([]);
    });
  }
});
