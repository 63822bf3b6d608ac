// The real Docker clients, unchanged, against Dockhand: docker CLI login + pull with stored credentials (htpasswd and
// token registries) and push; dockerode; docker-py (Debian python3-docker).

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { docker } from '../helpers/docker-cli.ts';
import { PYTHON } from '../rig/packages.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { type SeededImages, seedImages } from '../rig/seed.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

const USER = { username: 'testuser', password: 'testpass' };
let tokens: TokenServer;
let tokenRegistry: Registry;
let basicRegistry: Registry;
let tokenImages: SeededImages;
let basicImages: SeededImages;
let daemon: TestDaemon;
let config: string;

beforeAll(async () => {
  tokens = await startTokenServer({ users: { testuser: 'testpass' }, rotation: false });
  [tokenRegistry, basicRegistry] = await Promise.all([
    startRegistry({ auth: 'token', tokenServer: tokens }),
    startRegistry({ auth: 'htpasswd', users: { testuser: 'testpass' } }),
  ]);
  [tokenImages, basicImages] = await Promise.all([
    seedImages(tokenRegistry.host, USER),
    seedImages(basicRegistry.host, USER),
  ]);
  daemon = await startTestDaemon();
  config = await mkdtemp(join(tmpdir(), 'dockhand-cli-'));
});

afterAll(async () => {
  await daemon?.close();
  await Promise.all([tokenRegistry?.stop(), basicRegistry?.stop()]);
  await tokens?.stop();
  if (config) await rm(config, { recursive: true, force: true });
});

/** `docker login HOST -u testuser --password-stdin`, the password on stdin. */
const dockerLogin = (host: string, password: string) =>
  docker(daemon.socket, config, ['login', host, '-u', 'testuser', '--password-stdin'], `${password}\n`);

describe('docker CLI', () => {
  it('logs in to the htpasswd registry, pulls with the stored credentials, pushes', async () => {
    const anonymous = await docker(daemon.socket, config, ['pull', basicImages.small.ref]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toBe(
      `Error response from daemon: Head "http://${basicRegistry.host}/v2/small/manifests/1": no basic auth ` +
        'credentials\n',
    );
    const wrong = await dockerLogin(basicRegistry.host, 'nope');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `Error response from daemon: login attempt to http://${basicRegistry.host}/v2/ failed with status: 401 Unauthorized\n`,
    );
    const login = await dockerLogin(basicRegistry.host, 'testpass');
    expect(login.stdout).toContain('Login Succeeded');
    const pull = await docker(daemon.socket, config, ['pull', basicImages.small.ref]);
    expect(pull.stderr).toBe('');
    expect(pull.stdout).toContain('Downloaded newer image');
    const target = `${basicRegistry.host}/pushed:7`;
    expect((await docker(daemon.socket, config, ['tag', basicImages.small.ref, target])).code).toBe(0);
    const push = await docker(daemon.socket, config, ['push', target]);
    expect(push.stderr).toBe('');
    const pushed = /7: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(push.stdout)?.[1];
    expect(pushed).toBeDefined();
    // As dockerd: the pushed manifest's digest joins the image's RepoDigests.
    const inspect = await docker(daemon.socket, config, [
      'image',
      'inspect',
      '-f',
      '{{json .RepoDigests}}',
      target,
    ]);
    expect(JSON.parse(inspect.stdout)).toContain(`${basicRegistry.host}/pushed@${pushed}`);
  });

  it('logs in to the token registry (identity token stored), then pulls with it', async () => {
    const wrong = await dockerLogin(tokenRegistry.host, 'nope');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `Error response from daemon: Get "http://${tokenRegistry.host}/v2/": unauthorized: incorrect username or password\n`,
    );
    const login = await dockerLogin(tokenRegistry.host, 'testpass');
    expect(login.stdout).toContain('Login Succeeded');
    const stored = JSON.parse(await readFile(join(config, 'config.json'), 'utf8')) as {
      auths: Record<string, { identitytoken?: string }>;
    };
    expect(stored.auths[tokenRegistry.host]?.identitytoken).toBeTruthy();
    const pull = await docker(daemon.socket, config, ['pull', tokenImages.multi.ref]);
    expect(pull.stderr).toBe('');
    expect(pull.stdout).toContain('Downloaded newer image');
    expect(tokens.log().some((e) => e.grantType === 'refresh_token' && e.status === 200)).toBe(true);
  });

  it('reports a denied pull as dockerd does', async () => {
    const pull = await docker(daemon.socket, join(config, 'empty'), [
      'pull',
      `${tokenRegistry.host}/small:1`,
    ]);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toBe(
      `Error response from daemon: pull access denied for ${tokenRegistry.host}/small, repository does not exist ` +
        "or may require 'docker login': denied: requested access to the resource is denied\n",
    );
  });
});

describe('dockerode', () => {
  it('pulls with followProgress, lists, inspects and checks auth', async () => {
    const client = new Docker({ socketPath: daemon.socket });
    const stream = await client.pull(basicImages['small-v2s2'].ref, {
      authconfig: { ...USER, serveraddress: basicRegistry.host },
    });
    const output = await new Promise<{ status?: string }[]>((resolve, reject) =>
      client.modem.followProgress(stream, (err: Error | null, res: { status?: string }[]) =>
        err ? reject(err) : resolve(res),
      ),
    );
    expect(output.some((m) => m.status?.startsWith('Status: Downloaded newer image'))).toBe(true);
    const list = await client.listImages();
    expect(list.some((i) => i.RepoTags?.includes(basicImages['small-v2s2'].ref))).toBe(true);
    const inspect = await client.getImage(basicImages['small-v2s2'].ref).inspect();
    expect(inspect.RepoTags).toContain(basicImages['small-v2s2'].ref);
    const auth = await client.checkAuth({ ...USER, serveraddress: basicRegistry.host });
    expect(auth.Status).toBe('Login Succeeded');
  });
});

describe('docker-py (Debian python3-docker)', () => {
  it('pulls and lists', async () => {
    const script = [
      'import docker, json, sys',
      `c = docker.DockerClient(base_url='unix://${daemon.socket}')`,
      `img = c.images.pull('${basicRegistry.host}/public/small', tag='1', auth_config={'username': 'testuser', 'password': 'testpass'})`,
      'print(json.dumps({"pulled": img.tags, "listed": [t for i in c.images.list() for t in i.tags]}))',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, ['-c', script], { timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const result = JSON.parse(out) as { pulled: string[]; listed: string[] };
    expect(result.pulled).toContain(`${basicRegistry.host}/public/small:1`);
    expect(result.listed).toContain(`${basicRegistry.host}/public/small:1`);
  });
});
