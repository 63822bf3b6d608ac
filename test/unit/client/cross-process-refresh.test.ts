// Two processes refresh through one file store against a token endpoint whose refresh tokens are single-use
// and which revokes the whole family on reuse (as Hydra and Auth0 do): the lock file must keep them in turn.
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileTokenStore } from '../../../client/index.ts';
import { startTsx } from '../../helpers/tsx-process.ts';
import { RefreshTokenStore } from '../../rig/refresh-tokens.ts';

const WORKER = fileURLToPath(new URL('./fixtures/refresh-worker.ts', import.meta.url));

let dir: string;
let server: http.Server;
let realm: string;
const tokens = new RefreshTokenStore(true);
let refreshes = 0;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dockhand-xproc-'));
  server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const form = new URLSearchParams(body);
    res.setHeader('content-type', 'application/json');
    if (req.method !== 'POST' || form.get('grant_type') !== 'refresh_token') {
      res.statusCode = 400;
      res.end(JSON.stringify({ error: 'unsupported_grant_type' }));
      return;
    }
    // Slow enough that two unsynchronised processes would overlap.
    await new Promise((r) => setTimeout(r, 20));
    const outcome = tokens.use(form.get('refresh_token') ?? '');
    if (!outcome.ok) {
      res.statusCode = 400;
      res.end(JSON.stringify({ error: 'invalid_grant', error_description: outcome.reason }));
      return;
    }
    refreshes++;
    res.end(
      JSON.stringify({ access_token: `access-${refreshes}`, refresh_token: outcome.next, expires_in: 300 }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await fs.rm(dir, { recursive: true, force: true });
});

async function runWorker(storePath: string, rounds: number, name: string): Promise<{ tokens: string[] }> {
  return JSON.parse(await startTsx(WORKER, [storePath, realm, String(rounds), name]).done);
}

describe('cross-process refresh through one file store', () => {
  it('never presents a spent refresh token', async () => {
    const storePath = path.join(dir, 'tokens.json');
    await createFileTokenStore(storePath).set('127.0.0.1:5000', {
      username: 'alice',
      refreshToken: tokens.issueForLogin('alice'),
    });
    const rounds = 8;
    const results = await Promise.all([runWorker(storePath, rounds, 'a'), runWorker(storePath, rounds, 'b')]);
    expect(tokens.reuseDetections).toBe(0);
    expect(refreshes).toBe(2 * rounds);
    expect(results.flatMap((r) => r.tokens)).toHaveLength(2 * rounds);
    const final = await createFileTokenStore(storePath).get('127.0.0.1:5000');
    expect(final?.username).toBe('alice');
    expect(tokens.isValid(final!.refreshToken!)).toBe(true);
    await expect(fs.access(`${storePath}.lock`)).rejects.toThrow();
  });
});
