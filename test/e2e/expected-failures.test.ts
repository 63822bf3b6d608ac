// Failures a daemon meets every day answer as dockerd answers them (HTTP 500 before the stream, with the cause in
// the message) and are logged by type and message: no stack trace, which would read as a crash. A revoked refresh
// token in the classic flow, a token realm the policy refuses, a registry nobody answers at.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pullRaw } from '../helpers/raw-pull.ts';
import { freePort } from '../rig/ports.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

let tokens: TokenServer;
let registry: Registry;
let refusing: Server;
let refusingHost: string;
let daemon: TestDaemon;

beforeAll(async () => {
  tokens = await startTokenServer();
  registry = await startRegistry({ auth: 'token', tokenServer: tokens });
  refusing = createServer((req, res) => {
    req.resume();
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://169.254.169.254/token",service="x"' });
    res.end();
  });
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
  const address = refusing.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  refusingHost = `127.0.0.1:${address.port}`;
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.close();
  await new Promise<void>((resolve) => {
    refusing?.close(() => resolve());
    refusing?.closeAllConnections();
  });
  await registry?.stop();
  await tokens?.stop();
});

function logsOfFailures(): string[] {
  return daemon
    .logs()
    .split('\n')
    .filter((line) => line.includes('"request failed"') || line.includes('"stream ended with an error"'));
}

describe('expected failures', () => {
  it('a revoked refresh token in the classic flow: 500 saying to log in again, no stack', async () => {
    const auth = { identitytoken: 'revoked-refresh-token', serveraddress: registry.host };
    const outcome = await pullRaw(daemon.socket, `${registry.host}/small`, '1', auth);
    expect(outcome.status).toBe(500);
    expect(outcome.message).toBe('refresh token revoked or already used: log in again');
  });

  it('a token realm the policy refuses: 500 naming the realm, no stack', async () => {
    const outcome = await pullRaw(daemon.socket, `${refusingHost}/x`, '1');
    expect(outcome.status).toBe(500);
    expect(outcome.message).toContain('token realm http://169.254.169.254/token refused');
  });

  it('a registry nobody answers at: 500 naming the request, no stack', async () => {
    const port = await freePort();
    const outcome = await pullRaw(daemon.socket, `127.0.0.1:${port}/x`, '1');
    expect(outcome.status).toBe(500);
    // dockerd: Head "http://127.0.0.1:PORT/v2/x/manifests/1": dial tcp 127.0.0.1:PORT: connect: connection refused
    expect(outcome.message).toBe(
      `Head "http://127.0.0.1:${port}/v2/x/manifests/1": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
  });

  it('logged each by type and message, with no stack', () => {
    const failures = logsOfFailures();
    expect(failures).toHaveLength(3);
    for (const line of failures) {
      expect(line).not.toContain('"stack"');
      expect(JSON.parse(line).error.message).toEqual(expect.any(String));
    }
  });
});
