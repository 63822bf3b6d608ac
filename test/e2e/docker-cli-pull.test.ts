import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { docker } from '../helpers/docker-cli.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { type SeededImages, seedImages } from '../rig/seed.ts';

let registry: Registry;
let images: SeededImages;
let daemon: TestDaemon;
let config: string;

beforeAll(async () => {
  registry = await startRegistry({ auth: 'none' });
  images = await seedImages(registry.host);
  daemon = await startTestDaemon();
  config = await mkdtemp(join(tmpdir(), 'dockhand-cli-'));
});

afterAll(async () => {
  await daemon?.close();
  await registry?.stop();
  if (config) await rm(config, { recursive: true, force: true });
});

describe('docker CLI against Dockhand (no-auth registry)', () => {
  it('pulls by tag, then reports the image as up to date', async () => {
    const ref = images.small.ref;
    const first = await docker(daemon.socket, config, ['pull', ref]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Digest: ${images.small.digest}`);
    expect(first.stdout).toContain(`Status: Downloaded newer image for ${ref}`);
    const again = await docker(daemon.socket, config, ['pull', ref]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Status: Image is up to date for ${ref}`);
  });

  it('lists, inspects, tags and removes', async () => {
    const ref = images.small.ref;
    const list = await docker(daemon.socket, config, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')).toContain(ref);
    const inspect = await docker(daemon.socket, config, ['image', 'inspect', ref]);
    expect(inspect.code).toBe(0);
    const [info] = JSON.parse(inspect.stdout) as { RepoTags: string[]; RootFS: { Layers: string[] } }[];
    expect(info?.RepoTags).toContain(ref);
    expect(info?.RootFS.Layers).toEqual(images.small.build.images[0]?.layers.map((l) => l.diffId));
    const copy = `${registry.host}/copy:2`;
    expect((await docker(daemon.socket, config, ['tag', ref, copy])).code).toBe(0);
    const rmi = await docker(daemon.socket, config, ['rmi', copy]);
    expect(rmi.code).toBe(0);
    expect(rmi.stdout).toContain(`Untagged: ${copy}`);
  });

  it('pulls by digest and for another platform', async () => {
    const byDigest = `${registry.host}/${images.small.repository}@${images.small.digest}`;
    const pulled = await docker(daemon.socket, config, ['pull', byDigest]);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    const arm = await docker(daemon.socket, config, ['pull', '--platform', 'linux/arm64', images.multi.ref]);
    expect(arm.stderr).toBe('');
    expect(arm.code).toBe(0);
    const inspect = await docker(daemon.socket, config, [
      'image',
      'inspect',
      '--format',
      '{{.Architecture}}',
      images.multi.ref,
    ]);
    expect(inspect.stdout.trim()).toBe('arm64');
  });

  it('fails like dockerd for a missing manifest', async () => {
    const missing = await docker(daemon.socket, config, ['pull', `${registry.host}/nope:1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Error response from daemon: .*(not found|denied)/);
  });
});
