import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../../daemon/store/store.ts';
import { checkAndRemoveRoots, tempRoot } from './helpers.ts';
import { hexOf, sha256Hex, writeImage, writeIndex } from './image-fixture.ts';

const outs: string[] = [];

afterAll(async () => {
  for (const out of outs) await rm(out, { recursive: true, force: true });
  expect(await checkAndRemoveRoots()).toEqual([]);
});

/** `skopeo copy oci:<root>/oci:<ref> dir:<out>`, with no host policy or saved login involved. */
async function skopeoCopyToDir(root: string, ref: string): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'dockhand-skopeo-out-'));
  outs.push(out);
  await rm(out, { recursive: true });
  await promisify(execFile)(
    'skopeo',
    ['--insecure-policy', 'copy', `oci:${join(root, 'oci')}:${ref}`, `dir:${out}`],
    {
      env: { ...process.env, REGISTRY_AUTH_FILE: '/dev/null' },
      timeout: 60_000,
    },
  );
  return out;
}

describe('the data root is an OCI layout skopeo reads', () => {
  it('copies an image written through the store, by tag and by digest reference', async () => {
    const root = await tempRoot();
    const store = await Store.open(root);
    const image = await writeImage(store.content, { seed: 11 });
    await store.images.setTag(
      [
        '127.0.0.1:5000/small:1',
        `127.0.0.1:5000/small@${image.manifest.digest}`,
        'docker.io/library/alpine:3.20',
      ],
      image.manifest,
    );
    await store.close();

    for (const ref of [
      '127.0.0.1:5000/small:1',
      'docker.io/library/alpine:3.20',
      `127.0.0.1:5000/small@${image.manifest.digest}`,
    ]) {
      const out = await skopeoCopyToDir(root, ref);
      const manifest = await readFile(join(out, 'manifest.json'));
      expect(sha256Hex(manifest)).toBe(hexOf(image.manifest.digest));
      const files = await readdir(out);
      for (const digest of [image.config.digest, ...image.layers.map((l) => l.digest)]) {
        expect(files).toContain(hexOf(digest));
        expect(sha256Hex(await readFile(join(out, hexOf(digest))))).toBe(hexOf(digest));
      }
    }
  });

  it('copies Docker-typed images (schema2 manifest, manifest list) through their OCI view', async () => {
    const root = await tempRoot();
    const store = await Store.open(root);
    const single = await writeImage(store.content, { seed: 31, docker: true });
    await store.images.setTag('127.0.0.1:5000/small-v2s2:1', single.manifest);
    const amd64 = await writeImage(store.content, { seed: 32, docker: true });
    const arm64 = await writeImage(store.content, {
      seed: 33,
      docker: true,
      platform: { os: 'linux', architecture: 'arm64' },
    });
    const list = await writeIndex(
      store.content,
      [
        { manifest: amd64.manifest, platform: { os: 'linux', architecture: 'amd64' } },
        { manifest: arm64.manifest, platform: { os: 'linux', architecture: 'arm64' } },
      ],
      { docker: true },
    );
    await store.images.setTag('docker.io/library/multi-v2s2:1', list);
    await store.close();

    const out = await skopeoCopyToDir(root, '127.0.0.1:5000/small-v2s2:1');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.config.digest).toBe(single.config.digest);
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(
      single.layers.map((l) => l.digest),
    );

    // The list's children are the pulled Docker manifests, byte for byte.
    const host = process.arch === 'arm64' ? arm64 : amd64;
    const fromList = await skopeoCopyToDir(root, 'docker.io/library/multi-v2s2:1');
    expect(sha256Hex(await readFile(join(fromList, 'manifest.json')))).toBe(hexOf(host.manifest.digest));
  });

  it('copies the platform of an index that the store holds', async () => {
    const root = await tempRoot();
    const store = await Store.open(root);
    const amd64 = await writeImage(store.content, {
      seed: 21,
      platform: { os: 'linux', architecture: 'amd64' },
    });
    const arm64 = await writeImage(store.content, {
      seed: 22,
      platform: { os: 'linux', architecture: 'arm64' },
    });
    const index = await writeIndex(store.content, [
      { manifest: amd64.manifest, platform: { os: 'linux', architecture: 'amd64' } },
      { manifest: arm64.manifest, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    await store.images.setTag('127.0.0.1:5000/multi:1', index);
    await store.close();
    const out = await skopeoCopyToDir(root, '127.0.0.1:5000/multi:1');
    const host = process.arch === 'arm64' ? arm64 : amd64;
    expect(sha256Hex(await readFile(join(out, 'manifest.json')))).toBe(hexOf(host.manifest.digest));
  });
});
