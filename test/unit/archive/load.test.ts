import { readdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArchiveError } from '../../../daemon/archive/errors.ts';
import { stageArchive } from '../../../daemon/archive/load.ts';
import { tarEnd, tarHeader, tarPadding } from '../../../daemon/archive/tar-writer.ts';
import { Store } from '../../../daemon/store/store.ts';
import { checkAndRemoveRoots, chunks, sha256, tempRoot } from '../store/helpers.ts';
import { tarWithFile } from '../store/image-fixture.ts';

afterAll(async () => {
  expect(await checkAndRemoveRoots()).toEqual([]);
});

interface Spec {
  name: string;
  body?: Buffer;
  link?: string;
}

function archive(specs: Spec[]): Buffer {
  const parts: Buffer[] = [];
  for (const { name, body = Buffer.alloc(0), link } of specs) {
    parts.push(
      tarHeader(name, body.length, link ? { type: '2', linkname: link } : {}),
      body,
      tarPadding(body.length),
    );
  }
  parts.push(tarEnd());
  return Buffer.concat(parts);
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function config(diffIds: string[], seed: number): Buffer {
  return json({
    architecture: 'amd64',
    os: 'linux',
    created: `2024-01-0${seed}T00:00:00Z`,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created_by: `step ${seed}` })),
  });
}

async function stage(store: Store, bytes: Buffer) {
  const lease = store.leases.create();
  try {
    return await stageArchive(store.content, chunks(bytes, 1000), lease, new AbortController().signal);
  } finally {
    lease.release();
  }
}

async function ingestFiles(store: Store): Promise<string[]> {
  return readdir(store.content.layout.ingest);
}

describe('loading archives into the store', () => {
  it("reads docker's pre-25 layout: <id>/layer.tar files, a layer shared through a symlink, two images", async () => {
    const store = await Store.open(await tempRoot());
    const base = tarWithFile('base.txt', Buffer.from('base layer\n'));
    const top = tarWithFile('top.txt', Buffer.from('top layer\n'));
    const one = config([sha256(base)], 1);
    const two = config([sha256(base), sha256(top)], 2);
    const bytes = archive([
      { name: 'aaa/', body: Buffer.alloc(0) },
      { name: 'aaa/layer.tar', body: base },
      { name: 'aaa/VERSION', body: Buffer.from('1.0') },
      { name: 'bbb/layer.tar', link: '../aaa/layer.tar' },
      { name: 'ccc/layer.tar', body: top },
      { name: `${sha256(one).slice(7)}.json`, body: one },
      { name: `${sha256(two).slice(7)}.json`, body: two },
      {
        name: 'manifest.json',
        body: json([
          { Config: `${sha256(one).slice(7)}.json`, RepoTags: ['one:1'], Layers: ['aaa/layer.tar'] },
          {
            Config: `${sha256(two).slice(7)}.json`,
            RepoTags: ['two:1', 'two:latest'],
            Layers: ['bbb/layer.tar', 'ccc/layer.tar'],
          },
        ]),
      },
    ]);
    const images = await stage(store, bytes);
    expect(images.map((i) => [i.imageId, i.refs])).toEqual([
      [sha256(one), ['docker.io/library/one:1']],
      [sha256(two), ['docker.io/library/two:1', 'docker.io/library/two:latest']],
    ]);
    for (const image of images) await store.images.setTag(image.refs, image.target);
    const manifest = await store.content.readJson<{ layers: { digest: string; mediaType: string }[] }>(
      images[1]!.target.digest,
    );
    expect(manifest.layers.map((l) => l.digest)).toEqual([sha256(base), sha256(top)]);
    expect(await ingestFiles(store)).toEqual([]);
    await store.close();
  });

  it('checks gzip layers against the diff_ids, and refuses one whose content is another', async () => {
    const store = await Store.open(await tempRoot());
    const layer = tarWithFile('a.txt', Buffer.from('a\n'));
    const gz = gzipSync(layer);
    const good = config([sha256(layer)], 3);
    const bad = config([sha256(tarWithFile('b.txt', Buffer.from('b\n')))], 4);
    const build = (cfg: Buffer) =>
      archive([
        { name: `blobs/sha256/${sha256(gz).slice(7)}`, body: gz },
        { name: `blobs/sha256/${sha256(cfg).slice(7)}`, body: cfg },
        {
          name: 'manifest.json',
          body: json([
            {
              Config: `blobs/sha256/${sha256(cfg).slice(7)}`,
              RepoTags: ['gz:1'],
              Layers: [`blobs/sha256/${sha256(gz).slice(7)}`],
            },
          ]),
        },
      ]);
    const [image] = await stage(store, build(good));
    expect(image?.imageId).toBe(sha256(good));
    const error = await stage(store, build(bad)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArchiveError);
    expect((error as Error).message).toContain(
      `the layer's content hashes to ${sha256(layer)}, the config's diff_id is`,
    );
    await store.close();
  });

  it('refuses an index.json descriptor whose size lies, and an image without a name', async () => {
    const store = await Store.open(await tempRoot());
    const layer = gzipSync(tarWithFile('x.txt', Buffer.from('x\n')));
    const cfg = config([sha256(tarWithFile('x.txt', Buffer.from('x\n')))], 5);
    const manifest = json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(cfg),
        size: cfg.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: sha256(layer),
          size: layer.length + 1,
        },
      ],
    });
    const blobs = [layer, cfg, manifest].map((body) => ({
      name: `blobs/sha256/${sha256(body).slice(7)}`,
      body,
    }));
    const index = (annotations: Record<string, string>) =>
      json({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha256(manifest),
            size: manifest.length,
            annotations,
          },
        ],
      });
    const lying = await stage(
      store,
      archive([
        ...blobs,
        { name: 'index.json', body: index({ 'org.opencontainers.image.ref.name': 'example.com/x:1' }) },
      ]),
    ).catch((e: unknown) => e);
    expect((lying as Error).message).toContain(
      `the descriptor says ${layer.length + 1} bytes, ${sha256(layer)} has ${layer.length}`,
    );
    const unnamed = await stage(
      store,
      archive([...blobs, { name: 'index.json', body: index({ 'org.opencontainers.image.ref.name': '1' }) }]),
    ).catch((e: unknown) => e);
    expect((unnamed as Error).message).toContain('names no image');
    await store.close();
  });
});
