import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../../daemon/store/store.ts';
import { blob, checkAndRemoveRoots, chunks, deferred, tempRoot } from './helpers.ts';
import { tarWithFile, writeImage, writeIndex } from './image-fixture.ts';

afterAll(async () => {
  expect(await checkAndRemoveRoots()).toEqual([]);
});

const SMALL = '127.0.0.1:5000/small';

async function blobNames(store: Store): Promise<string[]> {
  return (await readdir(join(store.content.root, 'oci', 'blobs', 'sha256')))
    .map((hex) => `sha256:${hex}`)
    .sort();
}

describe('garbage collection', () => {
  it('removes orphans and untagged images, keeps what a reference reaches, and reports bytes', async () => {
    const store = await Store.open(await tempRoot());
    const shared = tarWithFile('shared.txt', Buffer.from('shared layer\n'));
    const kept = await writeImage(store.content, { seed: 1, sharedLayer: shared });
    const dropped = await writeImage(store.content, { seed: 2, sharedLayer: shared });
    const orphan = blob(5000);
    await store.content.putBytes(orphan.digest, orphan.bytes);
    await store.images.setTag(`${SMALL}:kept`, kept.manifest);
    await store.images.setTag(`${SMALL}:dropped`, dropped.manifest);

    expect(await store.gc()).toEqual({
      deleted: [orphan.digest],
      bytes: 5000,
      partials: [],
      partialBytes: 0,
    });

    const { removed, gc } = await store.removeImage(`${SMALL}:dropped`);
    expect(removed.map((r) => r.ref)).toEqual([`${SMALL}:dropped`]);
    const onlyDropped = [dropped.manifest, dropped.config, dropped.layers[1]!];
    expect(gc.deleted.sort()).toEqual(onlyDropped.map((d) => d.digest).sort());
    expect(gc.bytes).toBe(onlyDropped.reduce((n, d) => n + d.size, 0));
    expect(await blobNames(store)).toEqual(kept.digests.slice().sort());
    await store.close();
  });

  it('walks an index to every platform manifest present', async () => {
    const store = await Store.open(await tempRoot());
    const amd = await writeImage(store.content, { seed: 3 });
    const arm = await writeImage(store.content, {
      seed: 4,
      platform: { os: 'linux', architecture: 'arm64' },
    });
    const index = await writeIndex(store.content, [
      { manifest: amd.manifest, platform: { os: 'linux', architecture: 'amd64' } },
      { manifest: arm.manifest, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    await store.images.setTag(`${SMALL}:multi`, index);
    expect((await store.gc()).deleted).toEqual([]);
    expect(await blobNames(store)).toEqual([index.digest, ...amd.digests, ...arm.digests].sort());
    await store.close();
  });

  it("keeps a Docker-typed image's target and its OCI view", async () => {
    const store = await Store.open(await tempRoot());
    const image = await writeImage(store.content, { docker: true });
    const [record] = await store.images.setTag(`${SMALL}:docker`, image.manifest);
    expect((await store.gc()).deleted).toEqual([]);
    const { gc } = await store.removeImage(`${SMALL}:docker`);
    expect(gc.deleted.sort()).toEqual([...image.digests, record!.view!.digest].sort());
    await store.close();
  });

  it('never deletes what a live lease holds', async () => {
    const store = await Store.open(await tempRoot());
    const held = blob(1000, 1);
    const free = blob(1000, 2);
    await store.content.putBytes(held.digest, held.bytes);
    await store.content.putBytes(free.digest, free.bytes);
    const lease = store.leases.create();
    lease.add(held.digest);
    expect((await store.gc()).deleted).toEqual([free.digest]);
    lease.release();
    expect((await store.gc()).deleted).toEqual([held.digest]);
    await store.close();
  });

  it('spares an in-flight pull: its committed blobs, its partial, and then its image', async () => {
    const store = await Store.open(await tempRoot());
    // The pull learns and fetches the config first, then streams a layer.
    const image = await writeImage(store.content, { seed: 8 });
    const lease = store.leases.create();
    for (const digest of image.digests) lease.add(digest);
    const bigLayer = blob(200_000, 8);
    const paused = deferred();
    const resume = deferred();
    const pulling = store.content.fetchBlob(
      bigLayer,
      async () =>
        (async function* () {
          yield* chunks(bigLayer.bytes.subarray(0, 50_000));
          paused.resolve();
          await resume.promise;
          yield* chunks(bigLayer.bytes.subarray(50_000));
        })(),
      { lease },
    );
    await paused.promise;
    // An orphan partial of a dead pull goes; the live one stays though no reference reaches it yet.
    const dead = blob(3000, 99);
    await writeFile(
      join(store.content.root, 'oci', 'ingest', `${dead.digest.slice(7)}.partial`),
      dead.bytes.subarray(0, 100),
    );
    const during = await store.gc({ partials: true });
    expect(during.deleted).toEqual([]);
    expect(during.partials).toEqual([dead.digest]);
    expect(during.partialBytes).toBe(100);
    resume.resolve();
    expect(await pulling).toMatchObject({ status: 'fetched' });
    await store.images.setTag(`${SMALL}:8`, image.manifest);
    lease.release();
    expect((await store.gc()).deleted).toEqual([bigLayer.digest]);
    expect(await blobNames(store)).toEqual(image.digests.slice().sort());
    await store.close();
  });

  it('deletes stale partials only when asked, and young ones only past the age given', async () => {
    const store = await Store.open(await tempRoot());
    const b = blob(4000);
    const partial = join(store.content.root, 'oci', 'ingest', `${b.digest.slice(7)}.partial`);
    await writeFile(partial, b.bytes.subarray(0, 1000));
    expect((await store.gc()).partials).toEqual([]);
    expect((await store.gc({ partials: { olderThanMs: 60_000 } })).partials).toEqual([]);
    const old = new Date(Date.now() - 120_000);
    await utimes(partial, old, old);
    const lease = store.leases.create();
    lease.add(b.digest);
    expect((await store.gc({ partials: true })).partials).toEqual([]);
    lease.release();
    expect((await store.gc({ partials: { olderThanMs: 60_000 } })).partials).toEqual([b.digest]);

    // An ingest in progress, with no lease: its digest lock alone keeps its partial.
    const busy = blob(2000, 5);
    const ingest = (await store.content.ingest(busy))!;
    await ingest.write(chunks(busy.bytes.subarray(0, 500)));
    expect((await store.gc({ partials: true })).partials).toEqual([]);
    await ingest.write(chunks(busy.bytes.subarray(500)));
    await ingest.commit();
    await store.close();
  });

  it('leaves files in blobs/ that are not blob names alone', async () => {
    const store = await Store.open(await tempRoot());
    const stray = join(store.content.root, 'oci', 'blobs', 'sha256', 'README');
    await writeFile(stray, 'not a blob');
    expect((await store.gc()).deleted).toEqual([]);
    expect(await readdir(join(store.content.root, 'oci', 'blobs', 'sha256'))).toEqual(['README']);
    await (await import('node:fs/promises')).rm(stray);
    await store.close();
  });
});
