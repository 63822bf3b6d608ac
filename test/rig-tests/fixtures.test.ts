import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BuiltImage,
  buildImage,
  copyImage,
  inspectImage,
  MEDIA_TYPES,
  pushImage,
  REF_NAME_ANNOTATION,
  type Registry,
  startRegistry,
} from '../rig/index.ts';
import { pseudoRandomChunks } from '../rig/layer-writer.ts';
import { sha256 } from './helpers.ts';

const blobPath = (layoutDir: string, digest: string) =>
  join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;

describe('OCI fixtures', () => {
  let cacheDir: string;
  let registry: Registry;

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'dockhand-rig-fixtures-test-'));
    registry = await startRegistry({ auth: 'none' });
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('builds layers whose digest, diff_id and tar content are right', async () => {
    const built = await buildImage({ layers: [300_000, 1000], seed: 7 }, { tag: 'v1', cacheDir });
    const [image] = built.images;
    expect(built.mediaType).toBe(MEDIA_TYPES.ociManifest);
    expect(built.digest).toBe(image!.manifestDigest);
    const config = await readJson(blobPath(built.layoutDir, image!.configDigest));
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z' });
    expect((config['rootfs'] as { diff_ids: string[] }).diff_ids).toEqual(image!.layers.map((l) => l.diffId));

    for (const layer of image!.layers) {
      const gz = await readFile(blobPath(built.layoutDir, layer.digest));
      expect(sha256(gz)).toBe(layer.digest);
      expect(gz.length).toBe(layer.size);
      const tar = gunzipSync(gz);
      expect(sha256(tar)).toBe(layer.diffId);
      // One ustar entry: name, octal size, then the file bytes, then zero blocks.
      expect(tar.subarray(0, 100).toString('utf8').replace(/\0+$/, '')).toBe(layer.fileName);
      expect(Number.parseInt(tar.subarray(124, 135).toString('utf8'), 8)).toBe(layer.fileSize);
      expect(tar.subarray(257, 262).toString('utf8')).toBe('ustar');
      expect(tar.length % 512).toBe(0);
      const content = tar.subarray(512, 512 + layer.fileSize);
      expect(tar.subarray(512 + layer.fileSize).every((b) => b === 0)).toBe(true);
      expect(
        content.equals(
          Buffer.concat([
            ...pseudoRandomChunks(`7/linux/amd64/${image!.layers.indexOf(layer)}`, layer.fileSize, 'random'),
          ]),
        ),
      ).toBe(true);
    }
    const manifest = await readJson(blobPath(built.layoutDir, image!.manifestDigest));
    expect(manifest).toMatchObject({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest });
    const index = await readJson(join(built.layoutDir, 'index.json'));
    expect(index['manifests']).toEqual([
      {
        mediaType: MEDIA_TYPES.ociManifest,
        digest: built.digest,
        size: built.size,
        annotations: { [REF_NAME_ANNOTATION]: 'v1' },
      },
    ]);
    expect(await readJson(join(built.layoutDir, 'oci-layout'))).toEqual({ imageLayoutVersion: '1.0.0' });
  });

  it('is deterministic, incompressible, and cached by spec', async () => {
    const spec = { layers: [200_000], seed: 11 };
    const first = await buildImage(spec, { cacheDir });
    const started = Date.now();
    const again = await buildImage(spec, { cacheDir });
    expect(Date.now() - started).toBeLessThan(100);
    expect(again).toEqual(first);
    const otherDir = await mkdtemp(join(tmpdir(), 'dockhand-rig-fixtures-other-'));
    try {
      const rebuilt = await buildImage(spec, { cacheDir: otherDir });
      expect(rebuilt.digest).toBe(first.digest);
      expect(rebuilt.layoutDir).not.toBe(first.layoutDir);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
    const otherSeed = await buildImage({ layers: [200_000], seed: 12 }, { cacheDir });
    expect(otherSeed.images[0]!.layers[0]!.digest).not.toBe(first.images[0]!.layers[0]!.digest);
    // Random data does not shrink: level 0 (stored) and level 1 both stay above the file size.
    const level1 = await buildImage({ ...spec, gzipLevel: 1 }, { cacheDir });
    expect(level1.images[0]!.layers[0]!.size).toBeGreaterThan(200_000);
    expect(level1.images[0]!.layers[0]!.diffId).toBe(first.images[0]!.layers[0]!.diffId);
    const zero = await buildImage({ ...spec, fill: 'zero', gzipLevel: 1 }, { cacheDir });
    expect(zero.images[0]!.layers[0]!.size).toBeLessThan(10_000);
  });

  it('builds a multi-platform OCI index with per-platform configs', async () => {
    const built = await buildImage(
      { layers: [10_000], seed: 3, platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'] },
      { tag: 'multi', cacheDir },
    );
    expect(built.mediaType).toBe(MEDIA_TYPES.ociIndex);
    const index = await readJson(blobPath(built.layoutDir, built.digest));
    expect((index['manifests'] as { platform: unknown }[]).map((m) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
    const arm = built.images[2]!;
    expect(await readJson(blobPath(built.layoutDir, arm.configDigest))).toMatchObject({
      architecture: 'arm',
      variant: 'v7',
      os: 'linux',
    });
    const layerDigests = new Set(built.images.map((image) => image.layers[0]!.digest));
    expect(layerDigests.size).toBe(3);
  });

  it('skopeo pushes and inspects: the registry sees the same diff_ids', async () => {
    const built = await buildImage({ layers: [100_000, 50_000], seed: 5 }, { tag: '1', cacheDir });
    const { digest } = await pushImage({
      layoutDir: built.layoutDir,
      tag: '1',
      dest: `${registry.host}/fx/oci:1`,
    });
    expect(digest).toBe(built.digest);
    const config = await inspectImage(`${registry.host}/fx/oci:1`, { what: 'config' });
    expect((config['rootfs'] as { diff_ids: string[] }).diff_ids).toEqual(
      built.images[0]!.layers.map((l) => l.diffId),
    );
    const summary = await inspectImage(`${registry.host}/fx/oci:1`);
    expect(summary['Layers']).toEqual(built.images[0]!.layers.map((l) => l.digest));

    const v2 = await pushImage({
      layoutDir: built.layoutDir,
      tag: '1',
      dest: `${registry.host}/fx/v2s2:1`,
      format: 'v2s2',
    });
    expect(v2.digest).not.toBe(built.digest);
    const raw = await inspectImage(`${registry.host}/fx/v2s2:1`, { what: 'raw' });
    expect(raw['mediaType']).toBe(MEDIA_TYPES.dockerManifest);
  });

  it('skopeo pushes a multi-platform index with --all (v2s2 too) and picks a platform on inspect', async () => {
    const built = await buildImage(
      { layers: [20_000], seed: 4, platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'] },
      { tag: '1', cacheDir },
    );
    const pushed = await pushImage({
      layoutDir: built.layoutDir,
      tag: '1',
      dest: `${registry.host}/fx/multi:1`,
    });
    expect(pushed.digest).toBe(built.digest);
    const raw = await inspectImage(`${registry.host}/fx/multi:1`, { what: 'raw' });
    expect((raw['manifests'] as unknown[]).length).toBe(3);
    const arm = await inspectImage(`${registry.host}/fx/multi:1`, {
      what: 'config',
      overrideArch: 'arm',
      overrideVariant: 'v7',
    });
    expect(arm).toMatchObject({ architecture: 'arm', variant: 'v7' });
    await pushImage({
      layoutDir: built.layoutDir,
      tag: '1',
      dest: `${registry.host}/fx/multi-v2s2:1`,
      format: 'v2s2',
    });
    const list = await inspectImage(`${registry.host}/fx/multi-v2s2:1`, { what: 'raw' });
    expect(list['mediaType']).toBe(MEDIA_TYPES.dockerManifestList);
  });

  it('copyImage pulls an image back into an OCI layout', async () => {
    const built = await buildImage({ layers: [30_000], seed: 6 }, { tag: '1', cacheDir });
    await pushImage({ layoutDir: built.layoutDir, tag: '1', dest: `${registry.host}/fx/back:1` });
    const out = await mkdtemp(join(tmpdir(), 'dockhand-rig-copy-'));
    try {
      await copyImage(`docker://${registry.host}/fx/back:1`, `oci:${out}:back`);
      const layer = built.images[0]!.layers[0]!;
      expect(sha256(await readFile(blobPath(out, layer.digest)))).toBe(layer.digest);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('streams a 256 MiB layer to disk without holding it in memory', async () => {
    let peak = 0;
    const baseline = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss - baseline);
    }, 20);
    let built: BuiltImage;
    try {
      built = await buildImage({ layers: [256 * 1024 * 1024], seed: 99 }, { cacheDir });
    } finally {
      clearInterval(sampler);
    }
    const layer = built.images[0]!.layers[0]!;
    expect(layer.size).toBeGreaterThan(256 * 1024 * 1024);
    // Buffering the layer would cost more than 256 MiB; streaming costs a few chunks plus GC slack.
    expect(peak).toBeLessThan(160 * 1024 * 1024);
    // Reading 256 MiB back is slow on this VM's file system, so check the gzip trailer instead (ISIZE = tar size
    // mod 2^32); the small-layer test proves the digest and diff_id path with a full gunzip.
    const path = blobPath(built.layoutDir, layer.digest);
    expect((await stat(path)).size).toBe(layer.size);
    const handle = await open(path);
    try {
      const trailer = Buffer.alloc(8);
      await handle.read(trailer, 0, 8, layer.size - 8);
      expect(trailer.readUInt32LE(4)).toBe(layer.uncompressedSize % 2 ** 32);
      expect(layer.uncompressedSize).toBe(512 + 256 * 1024 * 1024 + 1024);
    } finally {
      await handle.close();
    }
    await rm(built.layoutDir, { recursive: true, force: true });
  });
});
