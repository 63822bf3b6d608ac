import { createCipheriv, createHash } from 'node:crypto';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { THREADED_HASH_MIN_BYTES } from '../../../daemon/store/blob-hash.ts';
import { ContentStore } from '../../../daemon/store/content-store.ts';
import { DigestMismatchError, IncompleteBlobError } from '../../../daemon/store/errors.ts';
import { blob, checkAndRemoveRoots, chunks, deferred, dropsAfter, server, tempRoot } from './helpers.ts';

afterAll(async () => {
  expect(await checkAndRemoveRoots()).toEqual([]);
});

/** Serves the first `pause` bytes, then waits for `resume` (or the abort of the signal it was opened with). */
function pausingServer(bytes: Buffer, pause: number) {
  const offsets: number[] = [];
  const paused = deferred();
  const resume = deferred();
  const open = async (offset: number, signal: AbortSignal) => {
    offsets.push(offset);
    async function* body() {
      yield* chunks(bytes.subarray(offset, pause), 1000);
      paused.resolve();
      await new Promise<void>((resolve, reject) => {
        resume.promise.then(resolve);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      yield* chunks(bytes.subarray(pause));
    }
    return body();
  };
  return { offsets, open, paused: paused.promise, resume: () => resume.resolve() };
}

describe('fetchBlob', () => {
  it('downloads a missing blob once and reports what it transferred', async () => {
    const store = await ContentStore.open(await tempRoot());
    const b = blob(200_000);
    const s = server(b.bytes);
    const progress: [number, number][] = [];
    expect(await store.fetchBlob(b, s.open, { onProgress: (c, t) => progress.push([c, t]) })).toEqual({
      status: 'fetched',
      transferred: b.size,
      resumedFrom: 0,
      shared: false,
    });
    expect(progress[0]).toEqual([0, b.size]);
    expect(progress.at(-1)).toEqual([b.size, b.size]);
    expect(await store.fetchBlob(b, s.open)).toEqual({
      status: 'exists',
      transferred: 0,
      resumedFrom: 0,
      shared: false,
    });
    expect(s.offsets).toEqual([0]);
    await store.close();
  });

  it('is single-flight: two concurrent callers, one download', async () => {
    const store = await ContentStore.open(await tempRoot());
    const b = blob(300_000);
    const first = pausingServer(b.bytes, 100_000);
    const second = server(b.bytes);
    const secondProgress: number[] = [];
    const a = store.fetchBlob(b, first.open);
    await first.paused;
    const c = store.fetchBlob(b, second.open, { onProgress: (current) => secondProgress.push(current) });
    first.resume();
    const [ra, rc] = await Promise.all([a, c]);
    expect(first.offsets).toEqual([0]);
    expect(second.offsets).toEqual([]);
    expect(ra).toMatchObject({ status: 'fetched', transferred: b.size, shared: false });
    expect(rc).toMatchObject({ status: 'fetched', transferred: 0, shared: true });
    expect(secondProgress.at(-1)).toBe(b.size);
    await store.close();
  });

  it("one caller's abort does not fail the other: the waiter resumes with its own open", async () => {
    const store = await ContentStore.open(await tempRoot());
    const b = blob(300_000);
    const leader = pausingServer(b.bytes, 120_000);
    const waiter = server(b.bytes);
    const controller = new AbortController();
    const leading = store.fetchBlob(b, leader.open, { signal: controller.signal });
    await leader.paused;
    const waiting = store.fetchBlob(b, waiter.open);
    controller.abort(new Error('leader cancelled'));
    await expect(leading).rejects.toThrow('leader cancelled');
    expect(await waiting).toEqual({
      status: 'fetched',
      transferred: b.size - 120_000,
      resumedFrom: 120_000,
      shared: false,
    });
    expect(waiter.offsets).toEqual([120_000]);
    await store.close();
  });

  it("a waiter's abort leaves the download running for the leader", async () => {
    const store = await ContentStore.open(await tempRoot());
    const b = blob(100_000);
    const leader = pausingServer(b.bytes, 50_000);
    const waiter = server(b.bytes);
    const leading = store.fetchBlob(b, leader.open);
    await leader.paused;
    const controller = new AbortController();
    const waiting = store.fetchBlob(b, waiter.open, { signal: controller.signal });
    controller.abort(new Error('waiter cancelled'));
    await expect(waiting).rejects.toThrow('waiter cancelled');
    leader.resume();
    expect(await leading).toMatchObject({ status: 'fetched', transferred: b.size });
    expect(waiter.offsets).toEqual([]);
    await store.close();
  });

  it("a waiter retries with its own open when the leader's fails (e.g. the leader's credentials)", async () => {
    const store = await ContentStore.open(await tempRoot());
    const b = blob(10_000);
    const gate = deferred();
    const leading = store.fetchBlob(b, async () => {
      await gate.promise;
      throw new Error('401 for the leader');
    });
    const waiter = server(b.bytes);
    const waiting = store.fetchBlob(b, waiter.open);
    gate.resolve();
    await expect(leading).rejects.toThrow('401 for the leader');
    expect(await waiting).toMatchObject({ status: 'fetched', transferred: b.size });
    await store.close();
  });

  it('resumes after a crash, asking only for the remainder', async () => {
    const root = await tempRoot();
    const b = blob(400_000, 9);
    let store = await ContentStore.open(root);
    await expect(store.fetchBlob(b, async () => dropsAfter(b.bytes, 150_000))).rejects.toThrow(
      'connection reset',
    );
    await store.close();
    store = await ContentStore.open(root);
    const s = server(b.bytes);
    expect(await store.fetchBlob(b, s.open)).toEqual({
      status: 'fetched',
      transferred: 250_000,
      resumedFrom: 150_000,
      shared: false,
    });
    expect(s.offsets).toEqual([150_000]);
    expect(await readdir(join(root, 'oci', 'ingest'))).toEqual([]);
    await store.close();
  });

  it('commits a partial that already holds the whole blob without opening anything', async () => {
    const store = await ContentStore.open(await tempRoot());
    const b = blob(40_000);
    await writeFile(join(store.root, 'oci', 'ingest', `${b.digest.slice(7)}.partial`), b.bytes);
    const s = server(b.bytes);
    expect(await store.fetchBlob(b, s.open)).toEqual({
      status: 'fetched',
      transferred: 0,
      resumedFrom: b.size,
      shared: false,
    });
    expect(s.offsets).toEqual([]);
    await store.close();
  });

  it('keeps the partial when the body ends early, and the next call resumes it', async () => {
    const store = await ContentStore.open(await tempRoot());
    const b = blob(50_000);
    await expect(store.fetchBlob(b, async () => chunks(b.bytes.subarray(0, 30_000)))).rejects.toBeInstanceOf(
      IncompleteBlobError,
    );
    const s = server(b.bytes);
    expect(await store.fetchBlob(b, s.open)).toMatchObject({ transferred: 20_000, resumedFrom: 30_000 });
    await store.close();
  });

  it('starts over when the server ignores the Range request', async () => {
    const store = await ContentStore.open(await tempRoot());
    const b = blob(50_000);
    await expect(store.fetchBlob(b, async () => dropsAfter(b.bytes, 20_000))).rejects.toThrow();
    const offsets: number[] = [];
    const result = await store.fetchBlob(b, async (offset) => {
      offsets.push(offset);
      return { body: chunks(b.bytes), start: 0 };
    });
    expect(offsets).toEqual([20_000]);
    expect(result).toMatchObject({ status: 'fetched', transferred: b.size, resumedFrom: 0 });
    await store.close();
  });

  it('retries once from zero when a resumed partial turns out corrupt', async () => {
    const store = await ContentStore.open(await tempRoot());
    const b = blob(60_000);
    await writeFile(join(store.root, 'oci', 'ingest', `${b.digest.slice(7)}.partial`), Buffer.alloc(25_000));
    const s = server(b.bytes);
    expect(await store.fetchBlob(b, s.open)).toMatchObject({ status: 'fetched', resumedFrom: 0 });
    expect(s.offsets).toEqual([25_000, 0]);
    await store.close();
  });

  it('a server sending the wrong bytes fails with DigestMismatchError and leaves nothing', async () => {
    const store = await ContentStore.open(await tempRoot());
    const b = blob(60_000);
    const s = server(blob(60_000, 2).bytes);
    await expect(store.fetchBlob(b, s.open)).rejects.toBeInstanceOf(DigestMismatchError);
    expect(s.offsets).toEqual([0]);
    expect(await store.has(b.digest)).toBe(false);
    expect(await readdir(join(store.root, 'oci', 'ingest'))).toEqual([]);
    await store.close();
  });

  it('adds the digest to the given lease first', async () => {
    const store = await ContentStore.open(await tempRoot());
    const b = blob(1000);
    const lease = store.leases.create();
    await store.fetchBlob(b, server(b.bytes).open, { lease });
    expect(store.leases.holds(b.digest)).toBe(true);
    lease.release();
    expect(store.leases.holds(b.digest)).toBe(false);
    await store.close();
  });

  it('streams a 64 MiB blob without holding it in memory', async () => {
    const store = await ContentStore.open(await tempRoot());
    const size = 64 * 1024 * 1024;
    // An AES-CTR keystream: deterministic, incompressible, and produced chunk by chunk.
    function* keystream() {
      const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
      const zeros = Buffer.alloc(64 * 1024);
      for (let at = 0; at < size; at += zeros.length) yield cipher.update(zeros);
    }
    const hash = createHash('sha256');
    for (const chunk of keystream()) hash.update(chunk);
    const digest = `sha256:${hash.digest('hex')}`;
    // The hashing thread of large blobs is a fixed cost (about 10 MiB while it runs, in the bench's peak): started
    // by a first blob, it is not what this test measures.
    const first = blob(THREADED_HASH_MIN_BYTES, 3);
    await store.fetchBlob(first, server(first.bytes).open);
    // Collecting garbage before each sample measures what the store keeps alive, not what V8 has yet to free.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().rss;
    let peak = before;
    let served = 0;
    const result = await store.fetchBlob({ digest, size }, async () =>
      (async function* () {
        for (const chunk of keystream()) {
          if (served % (4 * 1024 * 1024) === 0) {
            gc();
            peak = Math.max(peak, process.memoryUsage().rss);
          }
          served += chunk.length;
          yield chunk;
        }
      })(),
    );
    expect(result.transferred).toBe(size);
    expect((await stat(store.blobPath(digest))).size).toBe(size);
    expect(peak - before).toBeLessThan(size / 4);
    await store.close();
  });
});
