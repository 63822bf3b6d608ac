import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CredentialHelperError,
  createDockerConfigStore,
  InvalidStoreFileError,
} from '../../../client/index.ts';
import { helperList } from '../../../client/stores/credential-helper.ts';
import { installCredentialHelper } from '../../helpers/credential-helper.ts';

let dir: string;
let configDir: string;
let helperDir: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dockhand-dcfg-'));
  configDir = path.join(dir, 'docker');
  const helper = await installCredentialHelper(dir);
  helperDir = helper.dataDir;
  env = { ...helper.env, HOME: dir };
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function writeConfig(config: object): Promise<string> {
  await fs.mkdir(configDir, { recursive: true });
  const file = path.join(configDir, 'config.json');
  await fs.writeFile(file, JSON.stringify(config));
  return file;
}

async function readConfig(): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(path.join(configDir, 'config.json'), 'utf8'));
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('docker config.json store (auths)', () => {
  it('reads auth (user:pass) and identitytoken, with Hub under the index URL and legacy keys', async () => {
    await writeConfig({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub:pat:with:colons') },
        'ghcr.io': { auth: b64('gh:'), identitytoken: 'refresh-gh' },
        'https://legacy.example.com/v2/': { auth: b64('old:pw') },
      },
    });
    const store = createDockerConfigStore({ configDir, env });
    expect(await store.get('docker.io')).toEqual({ username: 'hub', password: 'pat:with:colons' });
    expect(await store.get('registry-1.docker.io')).toEqual({ username: 'hub', password: 'pat:with:colons' });
    expect(await store.get('ghcr.io')).toEqual({ username: 'gh', refreshToken: 'refresh-gh' });
    expect(await store.get('legacy.example.com')).toEqual({ username: 'old', password: 'pw' });
    expect(await store.get('nothing.example.com')).toBeUndefined();
  });

  it('finds config.json through DOCKER_CONFIG', async () => {
    await writeConfig({ auths: { 'r.example.com': { auth: b64('u:p') } } });
    const store = createDockerConfigStore({ env: { ...env, DOCKER_CONFIG: configDir } });
    expect(await store.get('r.example.com')).toEqual({ username: 'u', password: 'p' });
  });

  it('writes docker’s shapes, keeps unrelated settings and the file mode, and deletes', async () => {
    const file = await writeConfig({ auths: {}, currentContext: 'desktop', HttpHeaders: { 'X-Meta': '1' } });
    await fs.chmod(file, 0o640);
    const store = createDockerConfigStore({ configDir, env });
    await store.set('docker.io', { username: 'hub', refreshToken: 'r1', accessToken: 'not-kept' });
    await store.set('127.0.0.1:5000', { username: 'u', password: 'p' });
    const config = await readConfig();
    expect(config).toEqual({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub:'), identitytoken: 'r1' },
        '127.0.0.1:5000': { auth: b64('u:p') },
      },
      currentContext: 'desktop',
      HttpHeaders: { 'X-Meta': '1' },
    });
    expect((await fs.stat(file)).mode & 0o777).toBe(0o640);
    expect(await store.get('docker.io')).toEqual({ username: 'hub', refreshToken: 'r1' });
    await store.delete('docker.io');
    expect(Object.keys((await readConfig())['auths'] as object)).toEqual(['127.0.0.1:5000']);
  });

  it('creates a missing config.json with mode 0600', async () => {
    await createDockerConfigStore({ configDir, env }).set('r.example.com', { username: 'u', password: 'p' });
    expect((await fs.stat(path.join(configDir, 'config.json'))).mode & 0o777).toBe(0o600);
  });

  it('prefers DOCKER_AUTH_CONFIG and names what is wrong in it', async () => {
    await writeConfig({ auths: { 'r.example.com': { auth: b64('file:pw') } } });
    const overlay = JSON.stringify({ auths: { 'r.example.com': { auth: b64('env:pw') } } });
    const store = createDockerConfigStore({ configDir, env: { ...env, DOCKER_AUTH_CONFIG: overlay } });
    expect(await store.get('r.example.com')).toEqual({ username: 'env', password: 'pw' });
    const bad = createDockerConfigStore({
      configDir,
      env: {
        ...env,
        DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'r.example.com': { identitytoken: 'x' } } }),
      },
    });
    await expect(bad.get('r.example.com')).rejects.toThrow('missing key `auth` for r.example.com');
  });

  it('refuses an auth value without a username', async () => {
    const file = await writeConfig({ auths: { 'r.example.com': { auth: b64(':pw') } } });
    await expect(createDockerConfigStore({ configDir, env }).get('r.example.com')).rejects.toThrow(
      new InvalidStoreFileError(file, 'auths["r.example.com"].auth must be base64 of "username:password"'),
    );
  });
});

describe('docker config.json store (credential helpers)', () => {
  it('stores an identity token through credsStore as <token>, lists the registry in auths, reads it back', async () => {
    await writeConfig({ credsStore: 'dhtest' });
    const store = createDockerConfigStore({ configDir, env });
    await store.set('docker.io', { username: 'hub', refreshToken: 'r-hub' });
    const saved = (await fs.readdir(helperDir)).map((f) => f);
    expect(saved).toHaveLength(1);
    expect(JSON.parse(await fs.readFile(path.join(helperDir, saved[0]!), 'utf8'))).toEqual({
      ServerURL: 'https://index.docker.io/v1/',
      Username: '<token>',
      Secret: 'r-hub',
    });
    expect((await readConfig())['auths']).toEqual({ 'https://index.docker.io/v1/': {} });
    expect(await store.get('registry-1.docker.io')).toEqual({ refreshToken: 'r-hub' });
    expect(await helperList('dhtest', { env })).toEqual({ 'https://index.docker.io/v1/': '<token>' });
  });

  it('uses credHelpers for its registry before credsStore, and erases through the helper', async () => {
    await writeConfig({ credsStore: 'absent-helper', credHelpers: { 'ghcr.io': 'dhtest' } });
    const store = createDockerConfigStore({ configDir, env });
    await store.set('ghcr.io', { username: 'gh', password: 'pat' });
    expect(await store.get('ghcr.io')).toEqual({ username: 'gh', password: 'pat' });
    await store.delete('ghcr.io');
    expect(await store.get('ghcr.io')).toBeUndefined();
    expect(await fs.readdir(helperDir)).toEqual([]);
  });

  it('reports a helper that is not installed the way docker does', async () => {
    await writeConfig({ credsStore: 'absent-helper' });
    const err = await createDockerConfigStore({ configDir, env })
      .get('r.example.com')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialHelperError);
    expect((err as Error).message).toContain('executable file not found in $PATH');
  });

  it('refuses a helper name that could name a path', async () => {
    await writeConfig({ credsStore: '../../bin/sh' });
    await expect(createDockerConfigStore({ configDir, env }).get('r.example.com')).rejects.toThrow(
      'invalid credential helper name',
    );
  });
});
