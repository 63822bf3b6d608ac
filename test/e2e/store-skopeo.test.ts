// The data root after real pulls is an OCI layout skopeo copies from (OCI image, Docker schema2 image, two platforms
// of a multi-platform index); deleting images collects every blob index.json no longer reaches.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { type SeededImages, seedImages } from '../rig/seed.ts';

const execFileAsync = promisify(execFile);

interface Response {
  status: number;
  text: string;
}

async function call(socket: string, method: 'GET' | 'POST' | 'DELETE', path: string): Promise<Response> {
  const client = new Client('http://localhost', { socketPath: socket });
  try {
    const response = await client.request({ method, path });
    return { status: response.statusCode, text: await response.body.text() };
  } finally {
    await client.close();
  }
}

async function pull(socket: string, ref: string, platform?: string): Promise<string[]> {
  const colon = ref.lastIndexOf(':');
  const query = new URLSearchParams({ fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) });
  if (platform) query.set('platform', platform);
  const { status, text } = await call(socket, 'POST', `/images/create?${query}`);
  expect(status, text).toBe(200);
  const messages = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { status?: string; error?: string });
  expect(messages.find((m) => m.error !== undefined)).toBeUndefined();
  return messages.map((m) => m.status ?? '');
}

/** `skopeo copy oci:<dataRoot>/oci:<ref> dir:<out>` with skopeo's own platform choice flags; returns `out`. */
async function skopeoCopy(ref: string, platformFlags: string[] = []): Promise<string> {
  const out = await mkdtemp(join(scratch, 'copy-'));
  await rm(out, { recursive: true });
  await execFileAsync(
    'skopeo',
    [
      '--insecure-policy',
      ...platformFlags,
      'copy',
      `oci:${join(daemon.dataRoot, 'oci')}:${ref}`,
      `dir:${out}`,
    ],
    { env: { ...process.env, REGISTRY_AUTH_FILE: '/dev/null' }, timeout: 60_000 },
  );
  return out;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface Descriptor {
  mediaType: string;
  digest: string;
  annotations?: Record<string, string>;
}

const INDEX_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** Digests reachable from index.json: its entries (and the targets their views stand for), walked down. */
async function reachable(): Promise<Set<string>> {
  const oci = join(daemon.dataRoot, 'oci');
  const index = JSON.parse(await readFile(join(oci, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const pending: Descriptor[] = [];
  for (const entry of index.manifests) {
    pending.push(entry);
    const digest = entry.annotations?.['io.dockhand.target.digest'];
    const mediaType = entry.annotations?.['io.dockhand.target.mediaType'];
    if (digest && mediaType) pending.push({ digest, mediaType });
  }
  const seen = new Set<string>();
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (seen.has(next.digest)) continue;
    seen.add(next.digest);
    const isIndex = INDEX_TYPES.includes(next.mediaType);
    if (!isIndex && !MANIFEST_TYPES.includes(next.mediaType)) continue;
    let bytes: Buffer;
    try {
      bytes = await readFile(join(oci, 'blobs', 'sha256', next.digest.slice('sha256:'.length)));
    } catch {
      continue; // an index names platforms that were never pulled
    }
    const json = JSON.parse(bytes.toString('utf8')) as {
      manifests?: Descriptor[];
      config?: Descriptor;
      layers?: Descriptor[];
    };
    if (isIndex) pending.push(...(json.manifests ?? []));
    else pending.push(...(json.config ? [json.config] : []), ...(json.layers ?? []));
  }
  return seen;
}

async function storedBlobs(): Promise<string[]> {
  const dir = join(daemon.dataRoot, 'oci', 'blobs', 'sha256');
  const names = await readdir(dir);
  for (const name of names) expect(sha256(await readFile(join(dir, name)))).toBe(name);
  return names.map((name) => `sha256:${name}`);
}

async function expectNoOrphan(): Promise<void> {
  const marked = await reachable();
  const orphans = (await storedBlobs()).filter((digest) => !marked.has(digest));
  expect(orphans).toEqual([]);
}

let registry: Registry;
let images: SeededImages;
let daemon: TestDaemon;
let scratch: string;

beforeAll(async () => {
  registry = await startRegistry({ auth: 'none' });
  images = await seedImages(registry.host);
  daemon = await startTestDaemon();
  scratch = await mkdtemp(join(tmpdir(), 'dockhand-skopeo-e2e-'));
});

afterAll(async () => {
  await daemon?.close();
  await registry?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('skopeo reads the data root after real pulls', () => {
  it('copies the OCI image and the schema2 image by their full references', async () => {
    for (const name of ['small', 'small-v2s2'] as const) {
      const image = images[name];
      await pull(daemon.socket, image.ref);
      const out = await skopeoCopy(image.ref);
      const files = await readdir(out);
      const platform = image.build.images[0];
      for (const digest of [platform?.configDigest, ...(platform?.layers.map((l) => l.digest) ?? [])]) {
        const hex = digest?.slice('sha256:'.length) ?? '';
        expect(files).toContain(hex);
        expect(sha256(await readFile(join(out, hex)))).toBe(hex);
      }
    }
  });

  it('copies each pulled platform of the multi-platform image', async () => {
    const { ref, build } = images.multi;
    const cases = [
      { platform: 'linux/arm64', flags: ['--override-arch', 'arm64'], arch: 'arm64', variant: undefined },
      {
        platform: 'linux/arm/v7',
        flags: ['--override-arch', 'arm', '--override-variant', 'v7'],
        arch: 'arm',
        variant: 'v7',
      },
    ];
    for (const { platform, flags, arch, variant } of cases) {
      const statuses = await pull(daemon.socket, ref, platform);
      expect(statuses.at(-1)).toBe(`Status: Downloaded newer image for ${ref}`);
      const wanted = build.images.find(
        (i) => i.platform.architecture === arch && i.platform.variant === variant,
      );
      const out = await skopeoCopy(ref, flags);
      const manifest = await readFile(join(out, 'manifest.json'));
      expect(`sha256:${sha256(manifest)}`).toBe(wanted?.manifestDigest);
      const files = await readdir(out);
      for (const layer of wanted?.layers ?? []) expect(files).toContain(layer.digest.slice('sha256:'.length));
    }
    // The platform stored last is up to date; the other one is stored already (config and layers): as dockerd, it is
    // tagged again without layer lines.
    expect((await pull(daemon.socket, ref, 'linux/arm/v7')).at(-1)).toBe(
      `Status: Image is up to date for ${ref}`,
    );
    const again = await pull(daemon.socket, ref, 'linux/arm64');
    expect(again).toEqual([
      'Pulling from multi',
      `Digest: ${build.digest}`,
      `Status: Downloaded newer image for ${ref}`,
    ]);
  });

  it('DELETE /images/<ref> collects what nothing reaches any more, down to an empty store', async () => {
    await expectNoOrphan();
    const sharedLayers = images.small.build.images[0]?.layers.map((l) => l.digest) ?? [];
    const removed: unknown[] = [];
    for (const ref of [images.small.ref, images['small-v2s2'].ref, images.multi.ref]) {
      const { status, text } = await call(daemon.socket, 'DELETE', `/images/${encodeURIComponent(ref)}`);
      expect(status, text).toBe(200);
      removed.push(JSON.parse(text));
      await expectNoOrphan();
      // small:1 and small-v2s2:1 share config and layers: the first delete must leave them to the second image.
      if (ref === images.small.ref) expect(await storedBlobs()).toEqual(expect.arrayContaining(sharedLayers));
    }
    const listed = await call(daemon.socket, 'GET', '/images/json');
    expect(JSON.parse(listed.text)).toEqual([]);
    expect(await storedBlobs()).toEqual([]);
  });
});
