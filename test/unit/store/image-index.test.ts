import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AmbiguousImageIdError,
  BlobNotFoundError,
  CorruptLayoutError,
  InvalidArgumentError,
  RefNotFoundError,
} from '../../../daemon/store/errors.ts';
import { MEDIA_TYPES, REF_NAME_ANNOTATION } from '../../../daemon/store/oci.ts';
import { Store } from '../../../daemon/store/store.ts';
import { blob, checkAndRemoveRoots, tempRoot } from './helpers.ts';
import { writeImage, writeIndex } from './image-fixture.ts';

afterAll(async () => {
  expect(await checkAndRemoveRoots()).toEqual([]);
});

const SMALL = '127.0.0.1:5000/small';

async function readIndexJson(root: string) {
  return JSON.parse(await readFile(join(root, 'oci', 'index.json'), 'utf8'));
}

describe('ImageIndex', () => {
  it('lists every reference in index.json with its ref.name annotation', async () => {
    const root = await tempRoot();
    const store = await Store.open(root);
    expect(await readIndexJson(root)).toEqual({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [],
    });
    const image = await writeImage(store.content);
    await store.images.setTag([`${SMALL}:1`, `${SMALL}@${image.manifest.digest}`], image.manifest);
    await store.images.setTag('docker.io/library/alpine:3.20', image.manifest);
    expect(await readIndexJson(root)).toEqual({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        { ...image.manifest, annotations: { [REF_NAME_ANNOTATION]: `${SMALL}:1` } },
        { ...image.manifest, annotations: { [REF_NAME_ANNOTATION]: `${SMALL}@${image.manifest.digest}` } },
        { ...image.manifest, annotations: { [REF_NAME_ANNOTATION]: 'docker.io/library/alpine:3.20' } },
      ].sort((a, b) => a.annotations[REF_NAME_ANNOTATION].localeCompare(b.annotations[REF_NAME_ANNOTATION])),
    });
    await store.close();
  });

  it('groups references by image ID (the config digest) with tags, digests and metadata', async () => {
    const store = await Store.open(await tempRoot());
    const image = await writeImage(store.content, { seed: 4 });
    const other = await writeImage(store.content, { seed: 5 });
    await store.images.setTag([`${SMALL}:1`, `${SMALL}@${image.manifest.digest}`], image.manifest);
    await store.images.setTag('docker.io/library/alpine:3.20', image.manifest);
    await store.images.setTag(`${SMALL}:2`, other.manifest);
    const list = store.images.list();
    expect(list.map((i) => i.id).sort()).toEqual([image.config.digest, other.config.digest].sort());
    const first = list.find((i) => i.id === image.config.digest)!;
    expect(first).toMatchObject({
      repoTags: [`${SMALL}:1`, 'docker.io/library/alpine:3.20'],
      repoDigests: [`${SMALL}@${image.manifest.digest}`],
      manifestDigest: image.manifest.digest,
      platform: { os: 'linux', architecture: 'amd64' },
      size: image.config.size + image.layers.reduce((n, l) => n + l.size, 0),
      created: '2024-01-05T00:00:00Z',
    });
    expect(Date.parse(first.lastTagTime)).toBeGreaterThan(Date.now() - 60_000);
    expect(store.images.getByRef(`${SMALL}:1`)).toMatchObject({
      name: SMALL,
      kind: 'tag',
      target: image.manifest,
      meta: { imageId: image.config.digest },
    });
    expect(store.images.getByRef(`${SMALL}:9`)).toBeUndefined();
    await store.close();
  });

  it('finds images by full ID, by hex, and by a unique prefix; refuses an ambiguous one', async () => {
    const store = await Store.open(await tempRoot());
    const byFirstHex = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let seed = 1; !pair; seed++) {
      const image = await writeImage(store.content, { seed });
      await store.images.setTag(`${SMALL}:${seed}`, image.manifest);
      const id = image.config.digest;
      const seen = byFirstHex.get(id[7]!);
      if (seen) pair = [seen, id];
      byFirstHex.set(id[7]!, id);
    }
    const [a, b] = pair;
    expect(store.images.getById(a)?.id).toBe(a);
    expect(store.images.getById(a.slice(7))?.id).toBe(a);
    const unique = a.slice(
      7,
      7 + [...Array(64).keys()].find((n) => n > 0 && a.slice(7, 7 + n) !== b.slice(7, 7 + n))!,
    );
    expect(store.images.getById(unique)?.id).toBe(a);
    expect(() => store.images.getById(a.slice(7, 8))).toThrow(AmbiguousImageIdError);
    expect(store.images.getById('zz')).toBeUndefined();
    expect(store.images.getById(blob(3).digest)).toBeUndefined();
    await store.close();
  });

  it('keeps references and metadata across a reopen', async () => {
    const root = await tempRoot();
    let store = await Store.open(root);
    const image = await writeImage(store.content);
    const meta = {
      imageId: image.config.digest,
      manifestDigest: image.manifest.digest,
      platform: { os: 'linux', architecture: 'amd64' },
      size: 1234,
      pulledAt: '2025-05-05T05:05:05.000Z',
    };
    await store.images.setTag([`${SMALL}:1`, `${SMALL}@${image.manifest.digest}`], image.manifest, meta);
    const before = store.images.list();
    expect(before[0]).toMatchObject({ size: 1234, pulledAt: meta.pulledAt });
    await store.close();
    store = await Store.open(root);
    expect(store.images.repaired).toEqual([]);
    expect(store.images.list()).toEqual(before);
    await store.close();
  });

  it('derives lost metadata again from index.json and the blobs', async () => {
    const root = await tempRoot();
    let store = await Store.open(root);
    const image = await writeImage(store.content);
    await store.images.setTag(`${SMALL}:1`, image.manifest);
    const before = store.images.getByRef(`${SMALL}:1`)!.meta;
    await store.close();
    await rm(join(root, 'meta', 'images.json'));
    store = await Store.open(root);
    expect(store.images.repaired).toEqual([`${SMALL}:1`]);
    expect(store.images.getByRef(`${SMALL}:1`)!.meta).toEqual(before);
    await store.close();
    expect(
      JSON.parse(await readFile(join(root, 'meta', 'images.json'), 'utf8')).refs[`${SMALL}:1`].meta,
    ).toEqual(before);
  });

  it('repairs a crash between the two writes: metadata for a reference index.json lacks, or a stale target', async () => {
    const root = await tempRoot();
    let store = await Store.open(root);
    const one = await writeImage(store.content, { seed: 1 });
    const two = await writeImage(store.content, { seed: 2 });
    await store.images.setTag(`${SMALL}:1`, one.manifest);
    await store.close();
    // As if setTag(:2) and setTag(:1 → two) died after writing the metadata and before index.json.
    const metaPath = join(root, 'meta', 'images.json');
    const meta = JSON.parse(await readFile(metaPath, 'utf8'));
    const twoMeta = {
      imageId: two.config.digest,
      manifestDigest: two.manifest.digest,
      platform: { os: 'linux', architecture: 'amd64' },
      size: 1,
    };
    meta.refs[`${SMALL}:2`] = {
      target: two.manifest.digest,
      taggedAt: new Date().toISOString(),
      meta: twoMeta,
    };
    meta.refs[`${SMALL}:1`] = {
      target: two.manifest.digest,
      taggedAt: new Date().toISOString(),
      meta: twoMeta,
    };
    await writeFile(metaPath, JSON.stringify(meta));
    store = await Store.open(root);
    expect(store.images.getByRef(`${SMALL}:2`)).toBeUndefined();
    expect(store.images.getByRef(`${SMALL}:1`)!.meta!.imageId).toBe(one.config.digest);
    expect(store.images.repaired).toEqual([`${SMALL}:1`]);
    expect(Object.keys(JSON.parse(await readFile(metaPath, 'utf8')).refs)).toEqual([`${SMALL}:1`]);
    await store.close();
  });

  it('removes references, all or none', async () => {
    const root = await tempRoot();
    const store = await Store.open(root);
    const image = await writeImage(store.content);
    await store.images.setTag([`${SMALL}:1`, `${SMALL}:2`], image.manifest);
    await expect(store.images.removeTag([`${SMALL}:1`, `${SMALL}:3`])).rejects.toBeInstanceOf(
      RefNotFoundError,
    );
    expect(store.images.refs().map((r) => r.ref)).toEqual([`${SMALL}:1`, `${SMALL}:2`]);
    const [removed] = await store.images.removeTag(`${SMALL}:1`);
    expect(removed).toMatchObject({ ref: `${SMALL}:1`, target: image.manifest });
    expect(
      (await readIndexJson(root)).manifests.map(
        (m: { annotations: Record<string, string> }) => m.annotations[REF_NAME_ANNOTATION],
      ),
    ).toEqual([`${SMALL}:2`]);
    await store.close();
  });

  it('refuses familiar references, a digest reference naming another digest, and a target not in the store', async () => {
    const store = await Store.open(await tempRoot());
    const image = await writeImage(store.content);
    for (const ref of [
      'alpine:3.20',
      'library/alpine:3.20',
      `${SMALL}`,
      `${SMALL}:bad tag`,
      'Docker.io/Library/alpine:1',
    ]) {
      const error = await store.images.setTag(ref, image.manifest).catch((e: unknown) => e);
      expect(error, ref).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe('ref');
    }
    await expect(store.images.setTag(`${SMALL}@${blob(2).digest}`, image.manifest)).rejects.toThrow(
      /another digest/,
    );
    const missing = { mediaType: MEDIA_TYPES.ociManifest, ...blob(100, 9) };
    await expect(
      store.images.setTag(`${SMALL}:1`, { mediaType: missing.mediaType, digest: missing.digest, size: 100 }),
    ).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(store.images.refs()).toEqual([]);
    await store.close();
  });

  it('tags an index; its metadata is the platform child present in the store', async () => {
    const store = await Store.open(await tempRoot());
    const arm = await writeImage(store.content, {
      seed: 31,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    });
    const absent = { mediaType: MEDIA_TYPES.ociManifest, digest: blob(7, 7).digest, size: 7 };
    const index = await writeIndex(store.content, [
      { manifest: absent, platform: { os: 'linux', architecture: 'amd64' } },
      { manifest: arm.manifest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
    await store.images.setTag(`${SMALL}:multi`, index);
    expect(store.images.getByRef(`${SMALL}:multi`)!.meta).toMatchObject({
      imageId: arm.config.digest,
      manifestDigest: arm.manifest.digest,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    });
    await store.close();
  });

  it('lists a Docker-typed image through an OCI view and keeps the pulled target', async () => {
    const root = await tempRoot();
    let store = await Store.open(root);
    const image = await writeImage(store.content, { docker: true });
    const [record] = await store.images.setTag(`${SMALL}:docker`, image.manifest);
    expect(record!.target).toEqual(image.manifest);
    const view = record!.view!;
    expect(view.mediaType).toBe(MEDIA_TYPES.ociManifest);
    const viewJson = await store.content.readJson<{
      config: { mediaType: string; digest: string };
      layers: { mediaType: string; digest: string }[];
    }>(view.digest);
    expect(viewJson.config).toMatchObject({ mediaType: MEDIA_TYPES.ociConfig, digest: image.config.digest });
    expect(viewJson.layers.map((l) => [l.mediaType, l.digest])).toEqual(
      image.layers.map((l) => [MEDIA_TYPES.ociLayerGzip, l.digest]),
    );
    const [entry] = (await readIndexJson(root)).manifests;
    expect(entry).toEqual({
      ...view,
      annotations: {
        [REF_NAME_ANNOTATION]: `${SMALL}:docker`,
        'io.dockhand.target.digest': image.manifest.digest,
        'io.dockhand.target.mediaType': MEDIA_TYPES.dockerManifest,
        'io.dockhand.target.size': String(image.manifest.size),
      },
    });
    await store.close();
    await rm(join(root, 'meta', 'images.json'));
    store = await Store.open(root);
    expect(store.images.getByRef(`${SMALL}:docker`)).toMatchObject({
      target: image.manifest,
      view,
      meta: { imageId: image.config.digest },
    });
    await store.close();
  });

  it('keeps index.json entries it does not manage, and refuses to overwrite an unreadable index.json', async () => {
    const root = await tempRoot();
    let store = await Store.open(root);
    const image = await writeImage(store.content);
    await store.close();
    const foreign = { ...image.manifest, annotations: { [REF_NAME_ANNOTATION]: 'latest' } };
    await writeFile(
      join(root, 'oci', 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [foreign] }),
    );
    store = await Store.open(root);
    await store.images.setTag(`${SMALL}:1`, image.manifest);
    expect((await readIndexJson(root)).manifests).toContainEqual(foreign);
    expect(store.images.roots()).toContainEqual(foreign);
    await store.close();

    await writeFile(join(root, 'oci', 'index.json'), '{"manifests": [');
    await expect(Store.open(root)).rejects.toBeInstanceOf(CorruptLayoutError);
    expect(await readFile(join(root, 'oci', 'index.json'), 'utf8')).toBe('{"manifests": [');
    await rm(join(root, 'oci', 'index.json'));
  });
});
