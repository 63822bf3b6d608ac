// LocalImages over a real store: what GET /images/json lists, its filters, and that the list follows every change of
// the references while reading each config only once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidParameterError } from '../../../daemon/errors.ts';
import { ImageEvents } from '../../../daemon/images/events.ts';
import { LocalImages } from '../../../daemon/images/local-images.ts';
import { type Descriptor, MEDIA_TYPES } from '../../../daemon/store/oci.ts';
import { Store } from '../../../daemon/store/store.ts';
import { sha256 } from '../store/helpers.ts';

const REG = '127.0.0.1:5000';
const opened: { store: Store; root: string }[] = [];

afterEach(async () => {
  for (const { store, root } of opened.splice(0)) {
    await store.close();
    await rm(root, { recursive: true, force: true });
  }
});

async function openStore(): Promise<{ store: Store; local: LocalImages }> {
  const root = await mkdtemp(join(tmpdir(), 'dockhand-local-images-'));
  const store = await Store.open(root);
  opened.push({ store, root });
  return { store, local: new LocalImages(store, new ImageEvents()) };
}

/** A manifest and config (the layer is named, not stored: listing never reads layers). */
async function putImage(
  store: Store,
  options: { created: string; labels?: Record<string, string>; seed: number },
): Promise<{ manifest: Descriptor; id: string }> {
  const configJson = Buffer.from(
    JSON.stringify({
      created: options.created,
      os: 'linux',
      architecture: 'amd64',
      config: options.labels ? { Labels: options.labels } : {},
      rootfs: { type: 'layers', diff_ids: [sha256(Buffer.from(`diff ${options.seed}`))] },
    }),
  );
  const config = { mediaType: MEDIA_TYPES.ociConfig, digest: sha256(configJson), size: configJson.length };
  await store.content.putBytes(config.digest, configJson);
  const layer = {
    mediaType: MEDIA_TYPES.ociLayerGzip,
    digest: sha256(Buffer.from(`l${options.seed}`)),
    size: 100,
  };
  const manifestJson = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [layer] }),
  );
  const manifest = {
    mediaType: MEDIA_TYPES.ociManifest,
    digest: sha256(manifestJson),
    size: manifestJson.length,
  };
  await store.content.putBytes(manifest.digest, manifestJson);
  return { manifest, id: config.digest };
}

async function threeImages() {
  const { store, local } = await openStore();
  const old = await putImage(store, { created: '2024-01-01T00:00:00Z', labels: { tier: 'base' }, seed: 1 });
  const mid = await putImage(store, {
    created: '2024-02-01T00:00:00Z',
    labels: { tier: 'app', team: 'x' },
    seed: 2,
  });
  const dangling = await putImage(store, { created: '2024-03-01T00:00:00Z', seed: 3 });
  await store.images.setTag([`${REG}/base:1`, `${REG}/base@${old.manifest.digest}`], old.manifest);
  await store.images.setTag(['docker.io/library/alpine:3.20', `${REG}/app:2`], mid.manifest);
  await store.images.setTag(`${REG}/gone@${dangling.manifest.digest}`, dangling.manifest);
  return { store, local, old, mid, dangling };
}

const ids = (list: readonly { Id: string }[]) => list.map((i) => i.Id).sort();

describe('LocalImages.list', () => {
  it('lists each image once with familiar tags and digests, labels, created seconds and size', async () => {
    const { local, old, mid, dangling } = await threeImages();
    const list = await local.list({ all: false, filters: {} });
    expect(ids(list)).toEqual([old.id, mid.id, dangling.id].sort());
    // Most recently tagged first.
    expect(list[0]?.Id).toBe(dangling.id);
    const midSummary = list.find((i) => i.Id === mid.id);
    expect(midSummary).toEqual({
      Id: mid.id,
      ParentId: '',
      RepoTags: [`${REG}/app:2`, 'alpine:3.20'],
      RepoDigests: [],
      Created: Date.parse('2024-02-01T00:00:00Z') / 1000,
      Size: midSummary?.Size,
      SharedSize: -1,
      Labels: { tier: 'app', team: 'x' },
      Containers: -1,
    });
    expect(midSummary?.Size).toBeGreaterThan(100);
    expect(list.find((i) => i.Id === old.id)?.RepoDigests).toEqual([`${REG}/base@${old.manifest.digest}`]);
  });

  it('filters by dangling, reference glob, label, before and since', async () => {
    const { local, old, mid, dangling } = await threeImages();
    const list = (filters: Record<string, string[]>) => local.list({ all: false, filters }).then(ids);
    expect(await list({ dangling: ['true'] })).toEqual([dangling.id]);
    expect(await list({ dangling: ['false'] })).toEqual([old.id, mid.id].sort());
    expect(await list({ reference: ['alpine'] })).toEqual([mid.id]);
    expect(await list({ reference: ['alpine:3.*'] })).toEqual([mid.id]);
    expect(await list({ reference: ['alpine:4'] })).toEqual([]);
    expect(await list({ reference: [`${REG}/*`] })).toEqual([old.id, mid.id].sort());
    expect(await list({ reference: ['base', 'alpine'] })).toEqual([mid.id]);
    expect(await list({ label: ['tier'] })).toEqual([old.id, mid.id].sort());
    expect(await list({ label: ['tier=app'] })).toEqual([mid.id]);
    expect(await list({ label: ['tier=app', 'team=y'] })).toEqual([]);
    expect(await list({ before: [`${REG}/app:2`] })).toEqual([old.id]);
    expect(await list({ since: [`${REG}/base:1`] })).toEqual([mid.id, dangling.id].sort());
    expect(await list({ since: [`${REG}/base:1`], dangling: ['false'] })).toEqual([mid.id]);
    await expect(local.list({ all: false, filters: { nope: ['1'] } })).rejects.toThrow(InvalidParameterError);
    await expect(local.list({ all: false, filters: { before: ['missing:1'] } })).rejects.toThrow(
      'No such image: missing:1',
    );
  });

  it('matches reference patterns without backtracking, and refuses malformed or overlong ones', async () => {
    const { store, local } = await openStore();
    const image = await putImage(store, { created: '2024-01-01T00:00:00Z', seed: 7 });
    const tags = Array.from({ length: 20 }, (_, i) => `docker.io/library/app${i}:${'t'.repeat(24)}`);
    await store.images.setTag(tags, image.manifest);
    // As a regular expression this pattern blocked the event loop for about a minute with 20 tags.
    const stars = { reference: [`${'*'.repeat(8)}zz`] };
    expect(await local.list({ all: false, filters: stars })).toEqual([]);
    expect(ids(await local.list({ all: false, filters: { reference: ['app*:t*'] } }))).toEqual([image.id]);
    await expect(local.list({ all: false, filters: { reference: ['a['] } })).rejects.toThrow(
      new InvalidParameterError(
        'invalid reference filter: invalid pattern "a[": unterminated character class',
      ),
    );
    await expect(local.list({ all: false, filters: { reference: ['a'.repeat(513)] } })).rejects.toThrow(
      'longer than 512 characters',
    );
  }, 10_000);

  it('follows tags, untags and removals made after a list', async () => {
    const { store, local, old, mid } = await threeImages();
    expect((await local.list({ all: false, filters: {} })).length).toBe(3);
    await local.tag(`${REG}/base:1`, `${REG}/base`, 'again');
    const tagged = await local.list({ all: false, filters: {} });
    expect(tagged.find((i) => i.Id === old.id)?.RepoTags).toEqual([`${REG}/base:1`, `${REG}/base:again`]);
    await local.remove('alpine:3.20', { force: false, noprune: false });
    expect((await local.list({ all: false, filters: {} })).find((i) => i.Id === mid.id)?.RepoTags).toEqual([
      `${REG}/app:2`,
    ]);
    await store.removeImage([`${REG}/app:2`]);
    expect(ids(await local.list({ all: false, filters: {} }))).not.toContain(mid.id);
  });

  it('reads each config once, however many lists run at the same time', async () => {
    const { store, local } = await threeImages();
    const reads = vi.spyOn(store.content, 'readJson');
    const lists = await Promise.all(
      Array.from({ length: 20 }, () => local.list({ all: false, filters: {} })),
    );
    for (const list of lists) expect(list.length).toBe(3);
    expect(reads).toHaveBeenCalledTimes(3);
    await local.list({ all: false, filters: {} });
    expect(reads).toHaveBeenCalledTimes(3);
  });

  it('does not keep a list built while a config could not be read', async () => {
    const { store, local, mid } = await threeImages();
    const readJson = store.content.readJson.bind(store.content);
    let failed = false;
    vi.spyOn(store.content, 'readJson').mockImplementation(async (digest) => {
      if (digest !== mid.id || failed) return readJson(digest);
      failed = true;
      throw new Error('EIO');
    });
    const first = await local.list({ all: false, filters: { label: ['tier'] } });
    expect(ids(first)).not.toContain(mid.id);
    const second = await local.list({ all: false, filters: { label: ['tier=app'] } });
    expect(ids(second)).toEqual([mid.id]);
    expect(ids(await local.list({ all: false, filters: { label: ['tier'] } })).length).toBe(2);
  });
});

describe('LocalImages.remove', () => {
  it('untags as moby does: a repository loses its digest references with its last tag; the image goes with its last reference', async () => {
    const { store, local } = await openStore();
    const image = await putImage(store, { created: '2024-01-01T00:00:00Z', seed: 7 });
    const digest = image.manifest.digest;
    await store.images.setTag(
      [`${REG}/base:1`, `${REG}/base:2`, `${REG}/base@${digest}`, `${REG}/other:1`, `${REG}/other@${digest}`],
      image.manifest,
    );
    const remove = (name: string, force = false) => local.remove(name, { force, noprune: false });
    await expect(remove(image.id)).rejects.toThrow(
      `conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
    );
    expect(await remove(`${REG}/base:1`)).toEqual([{ Untagged: `${REG}/base:1` }]);
    expect(await remove(`${REG}/base:2`)).toEqual([
      { Untagged: `${REG}/base:2` },
      { Untagged: `${REG}/base@${digest}` },
    ]);
    const last = await remove(image.id.slice(7, 19));
    expect(last.slice(0, 3)).toEqual([
      { Untagged: `${REG}/other:1` },
      { Untagged: `${REG}/other@${digest}` },
      { Deleted: image.id },
    ]);
    expect(last.slice(3)).toContainEqual({ Deleted: digest });
    expect(await local.list({ all: false, filters: {} })).toEqual([]);
  });

  it('removes a digest reference on its own, and every reference of a forced delete by ID', async () => {
    const { store, local } = await openStore();
    const image = await putImage(store, { created: '2024-01-01T00:00:00Z', seed: 8 });
    const digest = image.manifest.digest;
    await store.images.setTag([`${REG}/a:1`, `${REG}/a@${digest}`, `${REG}/b:1`], image.manifest);
    expect(await local.remove(`${REG}/a@${digest}`, { force: false, noprune: false })).toEqual([
      { Untagged: `${REG}/a@${digest}` },
    ]);
    const forced = await local.remove(image.id, { force: true, noprune: false });
    expect(forced.slice(0, 3)).toEqual([
      { Untagged: `${REG}/a:1` },
      { Untagged: `${REG}/b:1` },
      { Deleted: image.id },
    ]);
  });
});

describe('LocalImages.prune', () => {
  it('removes blobs that no image references, even when no image is pruned', async () => {
    const { store, local } = await openStore();
    const kept = await putImage(store, { created: '2024-01-01T00:00:00Z', seed: 9 });
    await store.images.setTag(`${REG}/kept:1`, kept.manifest);
    // What a refused download leaves: a verified blob nothing points to.
    const orphan = Buffer.alloc(64 * 1024, 7);
    const orphanDigest = sha256(orphan);
    await store.content.putBytes(orphanDigest, orphan);

    expect(await local.prune({})).toEqual({ ImagesDeleted: null, SpaceReclaimed: orphan.length });
    expect(await store.content.has(orphanDigest)).toBe(false);
    expect(await store.content.has(kept.manifest.digest)).toBe(true);
    expect(await store.content.has(kept.id)).toBe(true);
  });
});
