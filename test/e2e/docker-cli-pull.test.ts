import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { docker } from '../helpers/docker-cli.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { type SeededImages, seedImages } from '../rig/seed.ts';
import { copyImage } from '../rig/skopeo.ts';

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

// Expected outputs are what the same CLI prints against dockerd 20.10.24 (Debian docker.io) for the same commands;
// layer progress lines are left out where their order depends on timing.
describe('docker CLI against Dockhand (no-auth registry)', () => {
  it('shows the server in docker version', async () => {
    const version = await docker(daemon.socket, config, [
      'version',
      '--format',
      '{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}/{{.Server.Arch}}',
    ]);
    expect(version.stderr).toBe('');
    expect(version.stdout).toBe('1.50 1.40 linux/amd64\n');
  });

  it('pulls by tag, then reports the image as up to date', async () => {
    const ref = images.small.ref;
    const first = await docker(daemon.socket, config, ['pull', ref]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout.startsWith('1: Pulling from small\n')).toBe(true);
    expect(first.stdout).toMatch(/^[0-9a-f]{12}: Pull complete$/m);
    expect(first.stdout).toContain(
      `Digest: ${images.small.digest}\nStatus: Downloaded newer image for ${ref}\n${ref}\n`,
    );
    const again = await docker(daemon.socket, config, ['pull', ref]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      `1: Pulling from small\nDigest: ${images.small.digest}\nStatus: Image is up to date for ${ref}\n${ref}\n`,
    );
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
    expect(rmi.stdout).toBe(`Untagged: ${copy}\n`);
  });

  it('prints daemon errors as dockerd does (the message, not the JSON body)', async () => {
    const inspect = await docker(daemon.socket, config, ['image', 'inspect', 'nope:1']);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr).toBe('Error response from daemon: No such image: nope:1\n');
    const rmi = await docker(daemon.socket, config, ['rmi', 'nope:1']);
    expect(rmi.code).toBe(1);
    expect(rmi.stderr).toBe('Error response from daemon: No such image: nope:1\n');
  });

  it('pulls by digest and for another platform', async () => {
    const byDigest = `${registry.host}/${images.small.repository}@${images.small.digest}`;
    const pulled = await docker(daemon.socket, config, ['pull', byDigest]);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toBe(
      `${byDigest}: Pulling from small\nDigest: ${images.small.digest}\n` +
        `Status: Image is up to date for ${byDigest}\n${byDigest}\n`,
    );
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

  it('removes the last tag with its digest reference, then the image', async () => {
    const ref = images.multi.ref;
    const id = (
      await docker(daemon.socket, config, ['image', 'inspect', '--format', '{{.Id}}', ref])
    ).stdout.trim();
    const rmi = await docker(daemon.socket, config, ['rmi', ref]);
    expect(rmi.stderr).toBe('');
    const lines = rmi.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      `Untagged: ${ref}`,
      `Untagged: ${registry.host}/multi@${images.multi.digest}`,
      `Deleted: ${id}`,
    ]);
    const left = await docker(daemon.socket, config, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(left.stdout.split('\n')).not.toContain(ref);
  });

  it('fails like dockerd for a missing manifest', async () => {
    const missing = await docker(daemon.socket, config, ['pull', `${registry.host}/nope:1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `Error response from daemon: manifest for ${registry.host}/nope:1 not found: manifest unknown: manifest unknown\n`,
    );
  });
});

// The Link pagination of the tags list, which Debian's registry 2.8 does not do, is tested beside the repository
// client (test/unit/distribution/list-tags.test.ts).
describe('docker pull -a', () => {
  const tags = ['t1', 't2', 't3'];

  it('pulls every tag (one of them multi-platform), then reports the repository up to date', async () => {
    for (const tag of tags) {
      const from = tag === 't2' ? images.multi.ref : images.small.ref;
      await copyImage(`docker://${from}`, `docker://${registry.host}/tags:${tag}`, { all: tag === 't2' });
    }
    const repo = `${registry.host}/tags`;
    const first = await docker(daemon.socket, config, ['pull', '-a', repo]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    for (const tag of tags) expect(first.stdout).toContain(`${tag}: Pulling from tags\n`);
    expect(first.stdout).toContain(`Status: Downloaded newer image for ${repo}\n`);
    expect(first.stdout.match(/^Status: /gm)).toHaveLength(1);
    const listed = await docker(daemon.socket, config, ['images', repo, '--format', '{{.Tag}}']);
    expect(listed.stdout.trim().split('\n').sort()).toEqual(tags);
    const again = await docker(daemon.socket, config, ['pull', '-a', repo]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Status: Image is up to date for ${repo}\n`);
    expect(again.stdout).not.toMatch(/Pull complete/);
  });

  it('says so when the repository does not exist', async () => {
    const missing = await docker(daemon.socket, config, ['pull', '-a', `${registry.host}/nothing-here`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('repository does not exist');
  });
});
