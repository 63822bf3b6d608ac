// The image workflows docker users expect, with the real docker CLI and skopeo against Dockhand and a real
// registry: save and load (docker's and skopeo's archives, several images at once, hostile archives refused),
// history, system df, reference filters, each tag's own manifest, prune events, and `docker run` refused.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarHeader, tarPadding } from '../../daemon/archive/tar-writer.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { docker } from '../helpers/docker-cli.ts';
import { engineRequest } from '../helpers/openapi-check.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { type SeededImages, seedImages } from '../rig/seed.ts';
import { copyImage, inspectSource } from '../rig/skopeo.ts';

const execFileAsync = promisify(execFile);

let registry: Registry;
let images: SeededImages;
let daemon: TestDaemon;
let config: string;
let work: string;

beforeAll(async () => {
  registry = await startRegistry({ auth: 'none' });
  images = await seedImages(registry.host);
  daemon = await startTestDaemon();
  config = await mkdtemp(join(tmpdir(), 'dockhand-cli-'));
  work = await mkdtemp(join(tmpdir(), 'dockhand-archives-'));
});

afterAll(async () => {
  await daemon?.close();
  await registry?.stop();
  for (const dir of [config, work]) if (dir) await rm(dir, { recursive: true, force: true });
});

const run = (...args: string[]) => docker(daemon.socket, config, args);

async function pulled(ref: string): Promise<void> {
  const pull = await run('pull', ref);
  expect(pull.stderr).toBe('');
  expect(pull.code).toBe(0);
}

async function imageId(ref: string): Promise<string> {
  const inspect = await run('image', 'inspect', '--format', '{{.Id}}', ref);
  expect(inspect.stderr).toBe('');
  return inspect.stdout.trim();
}

async function tarList(file: string): Promise<string[]> {
  const { stdout } = await execFileAsync('tar', ['-tf', file]);
  return stdout.split('\n').filter((l) => l !== '');
}

/** What the data root holds: index.json's text and every file under oci/ (blobs and ingests). */
async function storeState(): Promise<{ index: string; files: string[] }> {
  const oci = join(daemon.dataRoot, 'oci');
  const files = (await readdir(oci, { recursive: true })).map(String).sort();
  return { index: await readFile(join(oci, 'index.json'), 'utf8'), files };
}

function tarOf(entries: { name: string; body: Buffer; header?: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries)
    parts.push(e.header ?? tarHeader(e.name, e.body.length), e.body, tarPadding(e.body.length));
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A ustar header of another type (symlink '2', FIFO '6'). */
function typedHeader(name: string, type: string, linkname = ''): Buffer {
  return tarHeader(name, 0, { type, linkname });
}

describe('docker save and docker load', () => {
  it('save, rmi, load restores the same image ID, in the docker 25+ layout skopeo reads', async () => {
    const ref = images.small.ref;
    await pulled(ref);
    const id = await imageId(ref);
    const file = join(work, 'small.tar');
    const save = await run('save', '-o', file, ref);
    expect(save.stderr).toBe('');
    expect(save.code).toBe(0);
    const names = await tarList(file);
    expect(names).toEqual(
      expect.arrayContaining(['index.json', 'oci-layout', 'manifest.json', 'repositories']),
    );
    expect(names).toContain(`blobs/sha256/${images.small.digest.slice(7)}`);

    for (const transport of ['docker-archive', 'oci-archive']) {
      const seen = await inspectSource(`${transport}:${file}`, 'config');
      expect((seen.rootfs as { diff_ids: string[] }).diff_ids).toEqual(
        images.small.build.images[0]?.layers.map((l) => l.diffId),
      );
    }

    // A repository name saves every tag of it.
    const repoFile = join(work, 'repo.tar');
    expect((await run('save', '-o', repoFile, `${registry.host}/${images.small.repository}`)).code).toBe(0);
    const { stdout: manifest } = await execFileAsync('tar', ['-xOf', repoFile, 'manifest.json']);
    expect(JSON.parse(manifest)).toMatchObject([{ RepoTags: [ref] }]);

    expect((await run('rmi', ref)).code).toBe(0);
    const load = await run('load', '-i', file);
    expect(load.stderr).toBe('');
    expect(load.stdout).toBe(`Loaded image: ${ref}\n`);
    expect(await imageId(ref)).toBe(id);
    const inspect = JSON.parse((await run('image', 'inspect', ref)).stdout) as {
      Descriptor: { digest: string };
    }[];
    expect(inspect[0]?.Descriptor.digest).toBe(images.small.digest);
  });

  it('loads skopeo docker-archive: and oci-archive: files, and several images (by name and by ID) from one archive', async () => {
    const id = await imageId(images.small.ref);
    const dockerArchive = join(work, 'skopeo-docker.tar');
    const ociArchive = join(work, 'skopeo-oci.tar');
    const fromDocker = `${registry.host}/from-docker-archive:1`;
    const fromOci = `${registry.host}/from-oci-archive:1`;
    await copyImage(`docker://${images.small.ref}`, `docker-archive:${dockerArchive}:${fromDocker}`);
    await copyImage(`docker://${images.small.ref}`, `oci-archive:${ociArchive}:${fromOci}`);
    for (const [file, ref] of [
      [dockerArchive, fromDocker],
      [ociArchive, fromOci],
    ] as const) {
      const load = await run('load', '-i', file);
      expect(load.stderr).toBe('');
      expect(load.stdout).toBe(`Loaded image: ${ref}\n`);
      expect(await imageId(ref)).toBe(id);
    }

    const multi = images.multi.ref;
    await pulled(multi);
    const multiId = await imageId(multi);
    const both = join(work, 'both.tar');
    // One image by name, the other by ID (which takes its tags along).
    expect((await run('save', '-o', both, images.small.ref, multiId.slice(7, 19))).code).toBe(0);
    expect((await run('rmi', multi)).code).toBe(0);
    const load = await run('load', '-i', both);
    expect(load.stderr).toBe('');
    expect(load.stdout.split('\n').sort()).toEqual(
      ['', `Loaded image: ${images.small.ref}`, `Loaded image: ${multi}`].sort(),
    );
    expect(await imageId(multi)).toBe(multiId);
  });

  it('refuses hostile archives with the reason, and leaves the store as it was', async () => {
    const before = await storeState();
    const config = Buffer.from('{"rootfs":{"type":"layers","diff_ids":[]}}');
    const manifest = Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: ['evil:1'], Layers: [] }]));
    const blob = Buffer.from('not what the name says');
    const hostile: [string, Buffer, RegExp][] = [
      [
        'path traversal',
        tarOf([{ name: '../escape.json', body: config }]),
        /escape\.json climbs out of the archive/,
      ],
      [
        'a link out of the archive',
        tarOf([
          { name: 'c.json', body: Buffer.alloc(0), header: typedHeader('c.json', '2', '../../etc/passwd') },
          { name: 'manifest.json', body: manifest },
        ]),
        /symlink to \.\.\/\.\.\/etc\/passwd points outside the archive/,
      ],
      [
        'a FIFO',
        tarOf([{ name: 'fifo', body: Buffer.alloc(0), header: typedHeader('fifo', '6') }]),
        /entry type '6'/,
      ],
      [
        'a size that lies',
        tarOf([{ name: `blobs/sha256/${'a'.repeat(64)}`, body: blob }]).subarray(0, 512 + 10),
        /declares 22 bytes but the archive ends after 10/,
      ],
      [
        'a digest that does not match',
        tarOf([
          { name: `blobs/sha256/${'a'.repeat(64)}`, body: blob },
          { name: 'c.json', body: config },
          { name: 'manifest.json', body: manifest },
        ]),
        /its content hashes to sha256:[0-9a-f]{64}, not sha256:a{64}/,
      ],
    ];
    for (const [what, archive, reason] of hostile) {
      const file = join(work, 'hostile.tar');
      await writeFile(file, archive);
      const load = await run('load', '-i', file);
      expect(load.code, what).toBe(1);
      expect(load.stderr, what).toMatch(/^Error response from daemon: invalid image archive: /);
      expect(load.stderr, what).toMatch(reason);
      expect(await storeState(), what).toEqual(before);
    }
    const answer = await engineRequest(daemon.socket, {
      method: 'POST',
      path: '/v1.50/images/load?quiet=1',
      headers: { 'content-type': 'application/x-tar' },
      body: hostile[0]![1],
    });
    expect(answer.status).toBe(400);
    expect(await storeState()).toEqual(before);
  });

  it('serves save, load, history and df as openapi.yaml describes', async () => {
    await pulled(images.small.ref);
    const file = join(work, 'api.tar');
    expect((await run('save', '-o', file, images.small.ref)).code).toBe(0);
    const name = encodeURIComponent(images.small.ref);
    const saved = await engineRequest(daemon.socket, { path: `/v1.50/images/get?names=${name}` });
    expect(saved.status).toBe(200);
    expect(saved.headers['content-type']).toBe('application/x-tar');
    expect((await engineRequest(daemon.socket, { path: `/images/${images.small.ref}/get` })).status).toBe(
      200,
    );
    expect((await engineRequest(daemon.socket, { path: '/images/nope:1/get' })).status).toBe(404);
    const loaded = await engineRequest(daemon.socket, {
      method: 'POST',
      path: '/v1.50/images/load?quiet=1',
      headers: { 'content-type': 'application/x-tar' },
      body: await readFile(file),
    });
    expect(loaded.status).toBe(200);
    expect(loaded.lines()).toEqual([{ stream: `Loaded image: ${images.small.ref}\n` }]);
    const history = await engineRequest(daemon.socket, { path: `/v1.50/images/${images.small.ref}/history` });
    expect(history.status).toBe(200);
    const df = await engineRequest(daemon.socket, { path: '/v1.50/system/df' });
    expect(df.status).toBe(200);
  });
});

describe('history and disk usage', () => {
  it('docker history lists the config history, newest first, with layer sizes', async () => {
    const history = await run(
      'history',
      '--no-trunc',
      '--format',
      '{{.ID}}|{{.CreatedBy}}|{{.Size}}',
      images.small.ref,
    );
    expect(history.stderr).toBe('');
    const lines = history.stdout.trim().split('\n');
    const layers = images.small.build.images[0]!.layers;
    expect(lines).toHaveLength(layers.length);
    expect(lines[0]?.startsWith(`${await imageId(images.small.ref)}|`)).toBe(true);
    expect(lines[0]).toContain(layers.at(-1)!.fileName);
    expect(lines[1]?.startsWith('<missing>|')).toBe(true);
  });

  it('docker system df counts the images, each blob once', async () => {
    await pulled(images.small.ref);
    const df = await run('system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}}');
    expect(df.stderr).toBe('');
    const ids = new Set((await run('images', '-q', '--no-trunc')).stdout.trim().split('\n'));
    expect(df.stdout).toBe(`Images ${ids.size} 0\nContainers 0 0\nLocal Volumes 0 0\nBuild Cache 0 0\n`);
    const usage = (await engineRequest(daemon.socket, { path: '/system/df' })).json<{
      LayersSize: number;
      Images: { Id: string; Size: number }[];
    }>();
    expect(new Set(usage.Images.map((i) => i.Id))).toEqual(ids);
    // No two seeded images share a blob: the total is the sum of the images' sizes.
    expect(usage.LayersSize).toBe(usage.Images.reduce((sum, i) => sum + i.Size, 0));
  });
});

describe('faithful behaviour', () => {
  it('a reference filter shows only the matching tags', async () => {
    const other = 'example.com/elsewhere/small:1';
    expect((await run('tag', images.small.ref, other)).code).toBe(0);
    const listed = await run(
      'images',
      '--filter',
      `reference=${registry.host}/*`,
      '--format',
      '{{.Repository}}:{{.Tag}}',
    );
    expect(listed.stderr).toBe('');
    const lines = listed.stdout.trim().split('\n');
    expect(lines).toContain(images.small.ref);
    expect(lines).not.toContain(other);
    const both = await run(
      'images',
      '--filter',
      'reference=example.com/*/*',
      '--format',
      '{{.Repository}}:{{.Tag}}',
    );
    expect(both.stdout).toBe(`${other}\n`);
    expect((await run('rmi', other)).code).toBe(0);
  });

  it('each tag keeps its manifest: inspect shows it and push sends it', async () => {
    const oci = images.small.ref;
    const v2s2 = images['small-v2s2'].ref;
    await pulled(oci);
    await pulled(v2s2);
    expect(await imageId(oci)).toBe(await imageId(v2s2));
    const descriptor = async (ref: string) =>
      (
        JSON.parse((await run('image', 'inspect', ref)).stdout) as {
          Descriptor: { digest: string; mediaType: string };
        }[]
      )[0]?.Descriptor;
    expect(await descriptor(oci)).toMatchObject({
      digest: images.small.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
    expect((await descriptor(v2s2))?.digest).toBe(images['small-v2s2'].digest);
    const copy = `${registry.host}/identity:1`;
    expect((await run('tag', oci, copy)).code).toBe(0);
    const push = await run('push', copy);
    expect(push.stderr).toBe('');
    expect(push.stdout).toContain(`1: digest: ${images.small.digest} size: `);
  });

  it('prune sends an untag and a delete event per image, then prune', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const pruned = await run('image', 'prune', '-a', '-f');
    expect(pruned.code).toBe(0);
    const events = await run(
      'events',
      '--since',
      String(since),
      '--until',
      String(Math.floor(Date.now() / 1000) + 1),
      '--format',
      '{{.Action}}',
    );
    const actions = events.stdout.trim().split('\n');
    expect(actions).toContain('untag');
    expect(actions).toContain('delete');
    expect(actions.at(-1)).toBe('prune');
    expect(actions.indexOf('delete')).toBeLessThan(actions.indexOf('prune'));
  });

  it('docker run is refused at once with the reason, without pulling', async () => {
    const runIt = await run('run', '--rm', images.small.ref, 'true');
    expect(runIt.code).toBe(125);
    expect(runIt.stderr).toContain('Dockhand is an image daemon: containers are not supported (POST /');
    expect(runIt.stderr).not.toContain('Unable to find image');
    const answer = await engineRequest(daemon.socket, {
      method: 'POST',
      path: '/v1.50/containers/create',
      body: {},
    });
    expect(answer.status).toBe(501);
    const volumes = await engineRequest(daemon.socket, { path: '/volumes' });
    expect(volumes.status).toBe(501);
  });
});
