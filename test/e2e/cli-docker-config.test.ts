// `dockhand login -u … --password-stdin` to a Basic (htpasswd) registry stores the credentials where docker keeps
// them, and `dockhand pull` from that registry then succeeds through clientAuth: the daemon relays the Basic
// challenge and the CLI answers it with that host's username and password.
// 1. config.json `auths` (base64 user:pass), also for `pull -a` (the tags listed at the registry); 2. a credential
// helper named by `credsStore`, a script on PATH.

import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCredentialHelper } from '../helpers/credential-helper.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { cliHome, runDockhand } from '../helpers/dockhand-cli.ts';
import { buildImage } from '../rig/fixtures.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { SMALL_SPEC } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';

const USER = { username: 'testuser', password: 'testpass' };

let registry: Registry;
let daemon: TestDaemon;
let dir: string;
let ref: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(tmpdir(), 'dockhand-cli-config-'));
  registry = await startRegistry({ auth: 'htpasswd', users: { [USER.username]: USER.password } });
  const small = await buildImage(SMALL_SPEC, { tag: '1' });
  ref = `${registry.host}/small:1`;
  await pushImage({ layoutDir: small.layoutDir, tag: small.tag, dest: ref, creds: USER });
  await pushImage({
    layoutDir: small.layoutDir,
    tag: small.tag,
    dest: `${registry.host}/small:2`,
    creds: USER,
  });
});

afterAll(async () => {
  await daemon?.close();
  await registry?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

async function freshHome(name: string, extra: NodeJS.ProcessEnv = {}) {
  await daemon?.close();
  daemon = await startTestDaemon();
  const base = path.join(dir, name);
  await fs.mkdir(base, { recursive: true });
  return cliHome(base, daemon.socket, extra);
}

describe('dockhand login -u --password-stdin to a Basic registry, then pull', () => {
  it('without credentials the pull fails with one line saying how to log in', async () => {
    const home = await freshHome('none');
    const result = await runDockhand(['pull', ref], home.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `dockhand: ${registry.host} (small) asks for a username and password and none is stored: dockhand login ${registry.host}\n`,
    );
  });

  it('stores base64 user:pass in config.json auths, and the pull answers the Basic challenge with it', async () => {
    const home = await freshHome('auths');
    const login = await runDockhand(
      ['login', '-u', USER.username, '--password-stdin', registry.host],
      home.env,
      `${USER.password}\n`,
    );
    expect(login).toMatchObject({ code: 0, stdout: 'Login Succeeded\n' });
    const config = JSON.parse(await fs.readFile(path.join(home.dockerConfigDir, 'config.json'), 'utf8'));
    expect(config.auths[registry.host].auth).toBe(
      Buffer.from(`${USER.username}:${USER.password}`).toString('base64'),
    );
    const pull = await runDockhand(['pull', ref], home.env);
    expect(pull.stderr).toBe('');
    expect(pull.code).toBe(0);
    expect(pull.stdout).toContain(`Status: Downloaded newer image for ${ref}`);
    // -a lists the tags at the registry, answered by the same stored credentials, and pulls each.
    const all = await runDockhand(['pull', '-a', `${registry.host}/small`], home.env);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`Status: Image is up to date for ${ref}`);
    expect(all.stdout).toContain(`Status: Downloaded newer image for ${registry.host}/small:2`);
    expect(all.stdout.endsWith(`\n${registry.host}/small\n`)).toBe(true);
  });

  it('a wrong password is refused at login and nothing is stored', async () => {
    const home = await freshHome('wrong');
    const login = await runDockhand(
      ['login', '-u', USER.username, '--password-stdin', registry.host],
      home.env,
      'nope\n',
    );
    expect(login.code).toBe(1);
    expect(login.stderr).toMatch(/^dockhand: login to .* failed: .*refused the username or password\n$/);
    await expect(fs.stat(path.join(home.dockerConfigDir, 'config.json'))).rejects.toThrow();
  });

  it('with credsStore naming a helper on PATH: stored through the helper, read back by the pull', async () => {
    const helperDir = path.join(dir, 'helper');
    const helper = await installCredentialHelper(helperDir);
    const home = await freshHome('helper', helper.env);
    await fs.mkdir(home.dockerConfigDir, { recursive: true });
    await fs.writeFile(
      path.join(home.dockerConfigDir, 'config.json'),
      JSON.stringify({ credsStore: helper.name }),
    );
    const login = await runDockhand(
      ['login', '-u', USER.username, '--password-stdin', registry.host],
      home.env,
      USER.password,
    );
    expect(login).toMatchObject({ code: 0, stdout: 'Login Succeeded\n' });
    const config = JSON.parse(await fs.readFile(path.join(home.dockerConfigDir, 'config.json'), 'utf8'));
    expect(config.auths[registry.host]).toEqual({});
    expect(JSON.stringify(config)).not.toContain(USER.password);
    const stored = await fs.readdir(helper.dataDir);
    expect(stored).toHaveLength(1);
    const pull = await runDockhand(['pull', ref], home.env);
    expect(pull.stderr).toBe('');
    expect(pull.code).toBe(0);
    const calls = await helper.invocations();
    expect(calls).toContainEqual({ action: 'store', serverURL: registry.host });
    expect(calls).toContainEqual({ action: 'get', serverURL: registry.host });
  });
});
