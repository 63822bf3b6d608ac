// clientAuth with persistent token stores, end to end: the real daemon, registry 2.8 with token auth, the rig's
// token server rotating refresh tokens (reuse of a spent one revokes the family), and SDK processes of their own.
// 1. Two processes started at once share one file store: the lock file beside it makes their refresh single-flight.
// 2. docker's config.json names a credential helper on PATH: login stores the refresh token through the helper,
//    a pull in another process reads it back through the helper and stores the rotated one the same way.

import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDockerConfigStore,
  createFileTokenStore,
  login,
  type PullResult,
  type TokenStore,
} from '../../client/index.ts';
import { installCredentialHelper } from '../helpers/credential-helper.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { startTsx, type TsxProcess } from '../helpers/tsx-process.ts';
import { buildImage } from '../rig/fixtures.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { SMALL_SPEC } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

const WORKER = fileURLToPath(new URL('../helpers/oauth-pull-worker.ts', import.meta.url));
const README_EXAMPLE = fileURLToPath(new URL('../../client/examples/oauth-pull.ts', import.meta.url));
const USER = { username: 'testuser', password: 'testpass' };

let tokens: TokenServer;
let registry: Registry;
let ref: string;
let digest: string;
let dir: string;
let daemon: TestDaemon | undefined;
const workers: TsxProcess[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(tmpdir(), 'dockhand-client-stores-'));
  tokens = await startTokenServer({ users: { testuser: 'testpass' }, rotation: true });
  registry = await startRegistry({ auth: 'token', tokenServer: tokens });
  const small = await buildImage(SMALL_SPEC, { tag: '1' });
  ref = `${registry.host}/small:1`;
  ({ digest } = await pushImage({ layoutDir: small.layoutDir, tag: small.tag, dest: ref, creds: USER }));
});

afterAll(async () => {
  for (const worker of workers) worker.kill();
  await daemon?.close();
  await registry?.stop();
  await tokens?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

/** Logs in through `store` and returns the refresh token it now holds; the token server's log starts afresh. */
async function loginInto(store: TokenStore): Promise<string> {
  await login({ registry: registry.host, ...USER, store, clientId: 'dockhand-login' });
  const refreshToken = (await store.get(registry.host))?.refreshToken;
  expect(refreshToken).toBeTruthy();
  tokens.resetLog();
  return refreshToken as string;
}

/** A fresh daemon per test: nothing pulled before answers without the registry. Returns its socket. */
async function freshDaemon(): Promise<string> {
  await daemon?.close();
  daemon = await startTestDaemon();
  return daemon.socket;
}

/** Starts one worker process per client id, releases them together once all are loaded, and awaits their pulls. */
async function pullInProcesses(
  clientIds: string[],
  storePath: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<PullResult[]> {
  const socket = await freshDaemon();
  const started = clientIds.map((id) =>
    startTsx(WORKER, [socket, ref, id, ...(storePath ? [storePath] : [])], env),
  );
  workers.push(...started);
  await Promise.all(started.map((w) => w.untilLine('ready')));
  for (const w of started) w.write('go\n');
  const outputs = await Promise.all(started.map((w) => w.done));
  return outputs.map((out) => JSON.parse(out.trim().split('\n').at(-1) as string) as PullResult);
}

/** Every token-server request came from one of `clientIds` (none from the daemon) and was a refresh. */
function expectOnlySdkRefreshes(clientIds: string[]): void {
  const log = tokens.log();
  expect(log.length).toBeGreaterThan(0);
  for (const entry of log) {
    expect(clientIds).toContain(entry.clientId);
    expect(entry.grantType).toBe('refresh_token');
    expect(entry.status).toBe(200);
  }
  expect(daemon?.logs()).not.toContain(USER.password);
}

describe('two SDK processes started at once on one file token store', () => {
  it('pull through the daemon with one refresh, no reuse detection, and the newest refresh token stored', async () => {
    const storePath = path.join(dir, 'tokens.json');
    const first = await loginInto(createFileTokenStore(storePath));
    const ids = ['dockhand-proc-a', 'dockhand-proc-b'];

    const results = await pullInProcesses(ids, storePath, process.env);

    expect(results.map((r) => r.digest)).toEqual([digest, digest]);
    const counters = tokens.counters();
    expect(counters.reuseDetections).toBe(0);
    // One refresh: whichever process takes the lock second re-reads the store and finds the access token the
    // first one stored with the rotated refresh token, for the same realm, service and scope.
    expect(counters.refreshes).toBe(1);
    expect(counters.requests).toBe(1);
    expectOnlySdkRefreshes(ids);
    const newest = (await createFileTokenStore(storePath).get(registry.host))?.refreshToken as string;
    expect(newest).not.toBe(first);
    expect(tokens.isRefreshTokenValid(newest)).toBe(true);
    expect(tokens.isRefreshTokenValid(first)).toBe(false);
    await expect(fs.access(`${storePath}.lock`)).rejects.toThrow();
  });
});

describe('docker config.json with a credential helper on PATH', () => {
  it('login stores the refresh token through `store`; a pull in another process reads it through `get`', async () => {
    const helper = await installCredentialHelper(path.join(dir, 'helper'));
    const configDir = path.join(dir, 'docker');
    await fs.mkdir(configDir);
    await fs.writeFile(
      path.join(configDir, 'config.json'),
      JSON.stringify({ credHelpers: { [registry.host]: helper.name } }),
    );
    const env = { ...process.env, ...helper.env, DOCKER_CONFIG: configDir };
    const store = createDockerConfigStore({ env });

    const first = await loginInto(store);
    expect(await helper.invocations()).toEqual([
      { action: 'store', serverURL: registry.host },
      // loginInto reads the stored token back.
      { action: 'get', serverURL: registry.host },
    ]);
    // The helper holds the refresh token as docker's identity token: username `<token>`.
    const [saved] = await fs.readdir(helper.dataDir);
    expect(JSON.parse(await fs.readFile(path.join(helper.dataDir, saved as string), 'utf8'))).toEqual({
      ServerURL: registry.host,
      Username: '<token>',
      Secret: first,
    });
    // config.json only lists the registry: the secret lives in the helper.
    const config = JSON.parse(await fs.readFile(path.join(configDir, 'config.json'), 'utf8'));
    expect(config.auths).toEqual({ [registry.host]: {} });
    expect(JSON.stringify(config)).not.toContain(first);

    const [result] = await pullInProcesses(['dockhand-helper'], undefined, env);

    expect(result?.digest).toBe(digest);
    expect((await helper.invocations()).slice(2)).toEqual([
      // The OAuth handler re-reads the refresh token under the lock …
      { action: 'get', serverURL: registry.host },
      // … and stores the rotated one before the pull is retried.
      { action: 'store', serverURL: registry.host },
    ]);
    const counters = tokens.counters();
    expect(counters.refreshes).toBe(1);
    expect(counters.reuseDetections).toBe(0);
    expect(counters.requests).toBe(1);
    expectOnlySdkRefreshes(['dockhand-helper']);
    const newest = (await store.get(registry.host))?.refreshToken as string;
    expect(newest).not.toBe(first);
    expect(tokens.isRefreshTokenValid(newest)).toBe(true);
    expect(tokens.isRefreshTokenValid(first)).toBe(false);
  });
});

describe("the README's SDK program (client/examples/oauth-pull.ts)", () => {
  it('logs in, pulls through DOCKER_HOST with the OAuth handler, and a second run pulls with what it stored', async () => {
    const home = path.join(dir, 'home');
    const env = {
      ...process.env,
      HOME: home,
      DOCKER_HOST: `unix://${await freshDaemon()}`,
      REGISTRY: registry.host,
      IMAGE: ref,
      REGISTRY_USER: USER.username,
      REGISTRY_PASSWORD: USER.password,
    };
    tokens.resetLog();
    const run = (runEnv: NodeJS.ProcessEnv) => {
      const program = startTsx(README_EXAMPLE, [], runEnv);
      workers.push(program);
      return program.done;
    };

    expect(await run(env)).toContain(`pulled ${ref} ${digest}`);
    const { REGISTRY_PASSWORD: _password, ...withoutPassword } = env;
    expect(await run({ ...withoutPassword, DOCKER_HOST: `unix://${await freshDaemon()}` })).toContain(
      `pulled ${ref} ${digest}`,
    );

    // The first run: the password grant (login) and one refresh. The second run finds the access token the first
    // stored with the rotated refresh token and asks nothing. The daemon asked the token server nothing.
    expect(tokens.log().map((e) => [e.clientId, e.grantType, e.status])).toEqual([
      ['my-cli', 'password', 200],
      ['my-cli', 'refresh_token', 200],
    ]);
    expect(tokens.counters().reuseDetections).toBe(0);
    const storePath = path.join(home, '.config/dockhand/tokens.json');
    expect((await fs.stat(storePath)).mode & 0o777).toBe(0o600);
    const stored = (await createFileTokenStore(storePath).get(registry.host))?.refreshToken as string;
    expect(tokens.isRefreshTokenValid(stored)).toBe(true);
  });
});
