// `dockhand login --oauth` and pulls after it, end to end: the CLI as separate processes, the real daemon,
// registry 2.8 with token auth, and the rig's token server (device authorization grant with a 1 s interval,
// refresh-token rotation with reuse detection).
// 1. The device flow: the CLI prints the verification URI and user code as sent; one slow_down makes the next
//    gap 1 + 5 s; approval stores the refresh token (never a password) in Dockhand's token store.
// 2. access_denied and expired_token end with their own message and exit 1; Ctrl-C ends it with 130.
// 3. Two CLI processes pull different repositories at once, then two more: all succeed, the token server sees no
//    refresh-token reuse, and the store holds the newest (still valid) refresh token.
// 4. A refresh token the token server no longer accepts: one line telling to log in again, exit 1.

import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { type CliHome, cliHome, runDockhand, startDockhand } from '../helpers/dockhand-cli.ts';
import { buildImage } from '../rig/fixtures.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { SMALL_SPEC } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

const USER = { username: 'testuser', password: 'testpass' };
const REPOSITORIES = ['team/a', 'team/b', 'team/c', 'team/d'];

let tokens: TokenServer;
let registry: Registry;
let daemon: TestDaemon;
let dir: string;
let home: CliHome;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(tmpdir(), 'dockhand-cli-oauth-'));
  tokens = await startTokenServer({ users: { testuser: 'testpass' }, rotation: true, deviceInterval: 1 });
  registry = await startRegistry({ auth: 'token', tokenServer: tokens });
  const small = await buildImage(SMALL_SPEC, { tag: '1' });
  for (const repository of REPOSITORIES) {
    await pushImage({
      layoutDir: small.layoutDir,
      tag: small.tag,
      dest: `${registry.host}/${repository}:1`,
      creds: USER,
    });
  }
  daemon = await startTestDaemon();
  home = cliHome(dir, daemon.socket);
});

afterAll(async () => {
  await daemon?.close();
  await registry?.stop();
  await tokens?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

async function storedEntry(): Promise<Record<string, unknown> | undefined> {
  const text = await fs.readFile(home.tokenStorePath, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return (JSON.parse(text) as { registries: Record<string, Record<string, unknown>> }).registries[
    registry.host
  ];
}

describe('dockhand login --oauth (device authorization grant)', () => {
  it('denied: ends with its own message and exit 1', async () => {
    const cli = startDockhand(['login', '--oauth', registry.host], home.env);
    const pending = await tokens.device.nextPending();
    await cli.untilStdout(new RegExp(pending.userCode));
    tokens.device.deny(pending.userCode);
    const result = await cli.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^dockhand: login denied: .*\(access_denied\)\n$/);
    expect(await storedEntry()).toBeUndefined();
  });

  it('Ctrl-C while waiting for approval stops cleanly with exit 130', async () => {
    const cli = startDockhand(['login', '--oauth', registry.host], home.env);
    const pending = await tokens.device.nextPending();
    await cli.untilStdout(/Waiting for approval/);
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result).toMatchObject({ code: 130, stderr: '' });
    expect(await storedEntry()).toBeUndefined();
    // The abandoned code must not be the next test's pending login.
    tokens.device.expire(pending.userCode);
  });

  it('expired: ends with its own message and exit 1', async () => {
    const cli = startDockhand(['login', '--oauth', registry.host], home.env);
    const pending = await tokens.device.nextPending();
    tokens.device.expire(pending.userCode);
    const result = await cli.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^dockhand: login timed out: .*\(expired_token\).*dockhand login --oauth/);
  });

  it('prints the URI and code as sent, slows down by 5 s on slow_down, and stores only the refresh token', async () => {
    tokens.resetLog();
    tokens.device.slowDown(1);
    const started = Date.now();
    const cli = startDockhand(['login', '--oauth', registry.host], home.env);
    const pending = await tokens.device.nextPending();
    await cli.untilStdout(/Waiting for approval/);
    expect(cli.stdout()).toContain(`    ${tokens.url}/device\n`);
    expect(cli.stdout()).toContain(`    ${pending.userCode}\n`);
    expect(cli.stdout()).toContain(`${tokens.url}/device?user_code=${pending.userCode}`);
    // Approve once the slow_down has been answered: the next poll then gets the token.
    while (!tokens.device.polls().some((p) => p.userCode === pending.userCode)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    tokens.device.approve(pending.userCode);
    const result = await cli.done;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Login Succeeded\n$/);
    const polls = tokens.device.polls().filter((p) => p.userCode === pending.userCode);
    expect(polls.map((p) => p.answer)).toEqual(['slow_down', 'token']);
    const firstWait = (polls[0]?.time ?? 0) - started;
    const secondWait = (polls[1]?.time ?? 0) - (polls[0]?.time ?? 0);
    console.log(`device flow: first poll ${firstWait} ms after start, gap after slow_down ${secondWait} ms`);
    expect(secondWait).toBeGreaterThanOrEqual(6000);
    expect(secondWait).toBeLessThan(7500);
    const entry = await storedEntry();
    expect(entry).toMatchObject({ refreshToken: expect.any(String), accessToken: expect.any(String) });
    expect(entry).not.toHaveProperty('password');
    expect(tokens.isRefreshTokenValid(entry?.['refreshToken'] as string)).toBe(true);
    expect(await fs.readFile(home.tokenStorePath, 'utf8')).not.toContain(USER.password);
  }, 30_000);

  it('two CLI pulls at once, then two more: all succeed, no refresh-token reuse, the newest token stored', async () => {
    tokens.resetLog();
    for (const round of [REPOSITORIES.slice(0, 2), REPOSITORIES.slice(2)]) {
      const results = await Promise.all(
        round.map((repository) => runDockhand(['pull', `${registry.host}/${repository}:1`], home.env)),
      );
      for (const [i, result] of results.entries()) {
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(result.stdout).toContain(`${registry.host}/${round[i]}:1\n`);
      }
    }
    const counters = tokens.counters();
    console.log(`4 CLI pulls: ${counters.refreshes} refreshes, ${counters.reuseDetections} reuse detections`);
    expect(counters.reuseDetections).toBe(0);
    expect(counters.refreshes).toBeGreaterThanOrEqual(2);
    const entry = await storedEntry();
    expect(tokens.isRefreshTokenValid(entry?.['refreshToken'] as string)).toBe(true);
  }, 60_000);

  it('a refresh token the token server refuses ends with "log in again" and the login command, exit 1', async () => {
    const text = await fs.readFile(home.tokenStorePath, 'utf8');
    const file = JSON.parse(text) as { registries: Record<string, Record<string, unknown>> };
    const entry = file.registries[registry.host] ?? {};
    file.registries[registry.host] = { refreshToken: 'rig-rt.revoked-long-ago' };
    await fs.writeFile(home.tokenStorePath, JSON.stringify(file));
    try {
      const result = await runDockhand(['pull', `${registry.host}/team/a:1`], home.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `dockhand: refresh token for ${registry.host} revoked or already used: log in again: dockhand login --oauth ${registry.host}\n`,
      );
    } finally {
      file.registries[registry.host] = entry;
      await fs.writeFile(home.tokenStorePath, JSON.stringify(file));
    }
  });
});
