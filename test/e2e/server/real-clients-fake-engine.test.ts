// The real clients, unchanged, against the API server with the fake engine: docker CLI 28, dockerode, docker-py.
// The wire they see is the server's alone (the engine is scripted), so a failure here is an HTTP-layer failure.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker } from '../../helpers/docker-cli.ts';
import { PYTHON } from '../../rig/packages.ts';
import { SMALL_ID } from '../../unit/server/fake-image-service.ts';
import { type ServerHarness, startServerHarness } from '../../unit/server/harness.ts';

let t: ServerHarness;
let dockerConfig: string;
beforeAll(async () => {
  t = await startServerHarness({ config: { logLevel: 'debug' } });
  dockerConfig = await mkdtemp(join(tmpdir(), 'dh-cli-cfg-'));
});
afterAll(async () => {
  await t?.close();
  if (dockerConfig) await rm(dockerConfig, { recursive: true, force: true });
});

/** The request lines the daemon logged (method and URL), to see which API version a client negotiated. */
function requestedUrls(): string[] {
  return t.logs
    .map((l) => JSON.parse(l) as { msg?: string; req?: { method: string; url: string } })
    .filter((l) => l.msg === 'incoming request' && l.req)
    .map((l) => `${l.req!.method} ${l.req!.url}`);
}

describe('docker CLI 28', () => {
  it('docker version shows the server, negotiated down to API 1.50', async () => {
    const res = await docker(t.socket, dockerConfig, [
      'version',
      '--format',
      '{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}} {{.Client.APIVersion}}',
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toBe('0.1.0 1.50 linux 1.50');
    expect(requestedUrls()).toContain('HEAD /_ping');
    expect(requestedUrls()).toContain('GET /v1.50/version');
  });

  it('docker images lists the engine images', async () => {
    const res = await docker(t.socket, dockerConfig, [
      'images',
      '--no-trunc',
      '--format',
      '{{.Repository}}|{{.Tag}}|{{.ID}}',
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toBe(`127.0.0.1:5000/small|1|${SMALL_ID}`);
  });

  it('docker pull renders the stream, docker image inspect and docker tag use slashed names', async () => {
    const pull = await docker(t.socket, dockerConfig, ['pull', '127.0.0.1:5000/small:1']);
    expect(pull.code).toBe(0);
    expect(pull.stdout).toContain('Status: Downloaded newer image for 127.0.0.1:5000/small:1');
    expect(t.service.calls.pull.at(-1)).toMatchObject({ reference: '127.0.0.1:5000/small:1', auth: {} });
    const inspect = await docker(t.socket, dockerConfig, ['image', 'inspect', '127.0.0.1:5000/small:1']);
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.stdout)[0].Id).toBe(SMALL_ID);
    const tag = await docker(t.socket, dockerConfig, ['tag', '127.0.0.1:5000/small:1', 'me/copy:2']);
    expect(tag.code).toBe(0);
    // CLI 28 sends the normalized repository name.
    expect(t.service.calls.tag.at(-1)).toEqual({
      name: '127.0.0.1:5000/small:1',
      repo: 'docker.io/me/copy',
      tag: '2',
    });
    const missing = await docker(t.socket, dockerConfig, ['image', 'inspect', 'nope:1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No such image: nope:1');
  });
});

describe('docker login', () => {
  it('sends the credentials as the POST /auth JSON body and stores them on success', async () => {
    const res = await docker(
      t.socket,
      dockerConfig,
      ['login', '127.0.0.1:5001', '-u', 'testuser', '--password-stdin'],
      'testpass\n',
    );
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Login Succeeded');
    expect(t.service.calls.login.at(-1)).toEqual({
      auth: { username: 'testuser', password: 'testpass', serveraddress: '127.0.0.1:5001' },
      clientAuth: false,
    });
  });
});

describe('dockerode', () => {
  it('version() and listImages() over the socket (unversioned paths)', async () => {
    const client = new Docker({ socketPath: t.socket });
    const version = await client.version();
    expect(version.ApiVersion).toBe('1.50');
    expect(version.Version).toBe('0.1.0');
    const images = await client.listImages();
    expect(images.map((i) => i.Id)).toEqual([SMALL_ID]);
    expect(images[0]?.RepoTags).toEqual(['127.0.0.1:5000/small:1']);
    expect(await client.ping()).toEqual(Buffer.from('OK'));
    const auth = await client.checkAuth({ username: 'u', password: 'p', serveraddress: '127.0.0.1:5001' });
    expect(auth).toEqual({ Status: 'Login Succeeded' });
  });
});

describe('docker-py (Debian python3-docker)', () => {
  it('DockerClient(...).version() and images.list()', async () => {
    const script = [
      'import docker, json',
      `c = docker.DockerClient(base_url='unix://${t.socket}')`,
      'v = c.version()',
      'print(json.dumps({"api": v["ApiVersion"], "os": v["Os"], "tags": [i.tags for i in c.images.list()]}))',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, ['-c', script], { timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    expect(JSON.parse(out)).toEqual({ api: '1.50', os: 'linux', tags: [['127.0.0.1:5000/small:1']] });
  });
});
