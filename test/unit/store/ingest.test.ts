import { createHash } from 'node:crypto';
import { access, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ContentStore } from '../../../daemon/store/content-store.ts';
import {
  DigestMismatchError,
  IncompleteBlobError,
  InvalidDigestArgumentError,
  SizeMismatchError,
} from '../../../daemon/store/errors.ts';
import type { Ingest } from '../../../daemon/store/ingest.ts';
import { blob, checkAndRemoveRoots, chunks, deferred, dropsAfter, tempRoot } from './helpers.ts';

afterAll(async () => {
  expect(await checkAndRemoveRoots()).toEqual([]);
});

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function openStore() {
  return ContentStore.open(await tempRoot());
}

async function mustIngest(store: ContentStore, expected: { digest: string; size: number }): Promise<Ingest> {
  const ingest = await store.ingest(expected);
  if (!ingest) throw new Error('blob unexpectedly present');
  return ingest;
}

function paths(store: ContentStore, digest: string) {
  const hex = digest.slice('sha256:'.length);
  return {
    partial: join(store.root, 'oci', 'ingest', `${hex}.partial`),
    final: join(store.root, 'oci', 'blobs', 'sha256', hex),
  };
}

describe('Ingest', () => {
  it('streams into oci/ingest, then commit gives the blob its final name', async () => {
    const store = await openStore();
    const b = blob(300_000);
    const { partial, final } = paths(store, b.digest);
    const seen: boolean[] = [];
    async function* source() {
      for await (const chunk of chunks(b.bytes)) {
        seen.push(await exists(final));
        yield chunk;
      }
    }
    const ingest = await mustIngest(store, b);
    const progress: number[] = [];
    expect(await ingest.write(source(), { onProgress: (n) => progress.push(n) })).toBe(b.size);
    expect(ingest.complete).toBe(true);
    expect(await exists(partial)).toBe(true);
    expect(await exists(final)).toBe(false);
    await ingest.commit();
    expect(seen.every((s) => s === false)).toBe(true);
    expect(progress.at(-1)).toBe(b.size);
    expect((await readFile(final)).equals(b.bytes)).toBe(true);
    expect(await exists(partial)).toBe(false);
    expect(await store.ingest(b)).toBeUndefined();
    await store.close();
  });

  it('keeps at most two 1 MiB batches of received bytes off disk (backpressure)', async () => {
    const store = await openStore();
    const chunk = 64 * 1024;
    const b = blob(8 * 1024 * 1024 + 5);
    const { partial } = paths(store, b.digest);
    const behind: number[] = [];
    async function* source() {
      for (let at = 0; at < b.size; at += chunk) {
        behind.push(at - (await stat(partial)).size);
        yield b.bytes.subarray(at, at + chunk);
      }
    }
    const ingest = await mustIngest(store, b);
    await ingest.write(source());
    await ingest.commit();
    expect(Math.max(...behind)).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect((await readFile(paths(store, b.digest).final)).equals(b.bytes)).toBe(true);
    await store.close();
  });

  it('takes chunks larger than a batch, and chunks that straddle batches, byte for byte', async () => {
    const store = await openStore();
    const b = blob(5 * 1024 * 1024 + 11, 5);
    const cuts = [0, 1, 3 * 1024 * 1024 + 2, 3 * 1024 * 1024 + 3, 4 * 1024 * 1024 + 7, b.size];
    const ingest = await mustIngest(store, b);
    const progress: number[] = [];
    const pieces = cuts.slice(1).map((end, i) => b.bytes.subarray(cuts[i], end));
    await ingest.write(Readable.from(pieces), { onProgress: (n) => progress.push(n) });
    await ingest.commit();
    expect((await readFile(paths(store, b.digest).final)).equals(b.bytes)).toBe(true);
    expect(progress.at(-1)).toBe(b.size);
    await store.close();
  });

  it('accepts a Readable and honours its backpressure', async () => {
    const store = await openStore();
    const b = blob(1_000_000, 3);
    const ingest = await mustIngest(store, b);
    await ingest.write(Readable.from(chunks(b.bytes, 16_384), { highWaterMark: 1 }));
    await ingest.commit();
    expect(await store.size(b.digest)).toBe(b.size);
    await store.close();
  });

  it('a digest mismatch leaves neither a final blob nor a partial', async () => {
    const store = await openStore();
    const b = blob(100_000);
    const wrong = blob(100_000, 2);
    const { partial, final } = paths(store, b.digest);
    const ingest = await mustIngest(store, b);
    const error = await ingest.write(chunks(wrong.bytes)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error).toMatchObject({ expected: b.digest, actual: wrong.digest });
    expect((error as Error).message).toContain(b.digest);
    expect((error as Error).message).toContain(wrong.digest);
    expect(await exists(partial)).toBe(false);
    expect(await exists(final)).toBe(false);
    expect(ingest.closed).toBe(true);
    await store.close();
  });

  it('more bytes than the size stop the stream, delete the partial and name both sizes', async () => {
    const store = await openStore();
    const b = blob(10_000);
    const { partial, final } = paths(store, b.digest);
    let pulled = 0;
    async function* tooLong() {
      for await (const chunk of chunks(Buffer.concat([b.bytes, b.bytes]), 4096)) {
        pulled += chunk.byteLength;
        yield chunk;
      }
    }
    const ingest = await mustIngest(store, b);
    const error = await ingest.write(tooLong()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeMismatchError);
    expect(error).toMatchObject({ digest: b.digest, expected: 10_000, actual: 12_288 });
    // The stream reads one chunk ahead of the one that overflowed, and no further.
    expect(pulled).toBeLessThanOrEqual(12_288 + 4096);
    expect(await exists(partial)).toBe(false);
    expect(await exists(final)).toBe(false);
    await store.close();
  });

  it('a short source keeps the partial and commit refuses it', async () => {
    const store = await openStore();
    const b = blob(50_000);
    const { partial, final } = paths(store, b.digest);
    const ingest = await mustIngest(store, b);
    await ingest.write(chunks(b.bytes.subarray(0, 20_000)));
    expect(ingest.complete).toBe(false);
    await expect(ingest.commit()).rejects.toBeInstanceOf(IncompleteBlobError);
    expect((await stat(partial)).size).toBe(20_000);
    expect(await exists(final)).toBe(false);
    await ingest.close();
    await store.close();
  });

  it('resumes after a crash: re-hashes the partial and appends only the rest', async () => {
    const root = await tempRoot();
    const b = blob(500_000, 5);
    let store = await ContentStore.open(root);
    const first = await mustIngest(store, b);
    await expect(first.write(dropsAfter(b.bytes, 200_000))).rejects.toThrow('connection reset by test');
    expect(first.offset).toBe(200_000);
    // The process "dies": the ingest is dropped without close, the store is reopened.
    await store.close();
    store = await ContentStore.open(root);
    const resumed = await mustIngest(store, b);
    expect(resumed.offset).toBe(200_000);
    expect(await resumed.write(chunks(b.bytes.subarray(resumed.offset)))).toBe(300_000);
    await resumed.commit();
    expect(
      createHash('sha256')
        .update(await readFile(store.blobPath(b.digest)))
        .digest('hex'),
    ).toBe(b.digest.slice(7));
    await store.close();
  });

  it('commits a partial that already holds every byte without writing', async () => {
    const store = await openStore();
    const b = blob(70_000);
    await writeFile(paths(store, b.digest).partial, b.bytes);
    const ingest = await mustIngest(store, b);
    expect(ingest.offset).toBe(b.size);
    expect(ingest.complete).toBe(true);
    await ingest.commit();
    expect(await store.has(b.digest)).toBe(true);
    await store.close();
  });

  it('starts over when the partial is longer than the blob or complete but wrong', async () => {
    const store = await openStore();
    const b = blob(1000);
    const { partial } = paths(store, b.digest);
    await writeFile(partial, Buffer.alloc(2000));
    let ingest = await mustIngest(store, b);
    expect(ingest.offset).toBe(0);
    await ingest.close();
    await writeFile(partial, Buffer.alloc(1000));
    ingest = await mustIngest(store, b);
    expect(ingest.offset).toBe(0);
    await ingest.write(chunks(b.bytes));
    await ingest.commit();
    await store.close();
  });

  it('one ingest per digest at a time: the second waits, then finds the blob committed', async () => {
    const store = await openStore();
    const b = blob(100_000);
    const first = await mustIngest(store, b);
    let secondResolved = false;
    const second = store.ingest(b).then((i) => {
      secondResolved = true;
      return i;
    });
    await first.write(chunks(b.bytes.subarray(0, 50_000)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(secondResolved).toBe(false);
    await first.write(chunks(b.bytes.subarray(50_000)));
    await first.commit();
    expect(await second).toBeUndefined();
    await store.close();
  });

  it('discard deletes the partial and frees the digest for the next ingest', async () => {
    const store = await openStore();
    const b = blob(10_000);
    const ingest = await mustIngest(store, b);
    await ingest.write(chunks(b.bytes.subarray(0, 3000)));
    await ingest.discard();
    expect(await exists(paths(store, b.digest).partial)).toBe(false);
    const next = await mustIngest(store, b);
    expect(next.offset).toBe(0);
    await next.close();
    await store.close();
  });

  it('refuses a second write on the same ingest while one runs', async () => {
    const store = await openStore();
    const b = blob(10_000);
    const gate = deferred();
    async function* slow() {
      await gate.promise;
      yield b.bytes;
    }
    const ingest = await mustIngest(store, b);
    const first = ingest.write(slow());
    await expect(ingest.write(chunks(b.bytes))).rejects.toThrow(/already being written/);
    gate.resolve();
    await first;
    await ingest.commit();
    await store.close();
  });

  it('an abort while the source stalls keeps the partial for a resume', async () => {
    const store = await openStore();
    const b = blob(10_000);
    const stall = deferred();
    async function* stalls() {
      yield b.bytes.subarray(0, 4000);
      await stall.promise;
    }
    const controller = new AbortController();
    const ingest = await mustIngest(store, b);
    const writing = ingest.write(stalls(), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller went away')), 20);
    await expect(writing).rejects.toThrow('caller went away');
    expect(ingest.offset).toBe(4000);
    expect((await stat(paths(store, b.digest).partial)).size).toBe(4000);
    stall.resolve();
    await ingest.close();
    await store.close();
  });

  it('handles sha512 digests and empty blobs', async () => {
    const store = await openStore();
    const bytes = Buffer.from('hello sha512');
    const digest = `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
    expect(await store.putBytes(digest, bytes)).toBe('written');
    expect(await readFile(join(store.root, 'oci', 'blobs', 'sha512', digest.slice(7)))).toEqual(bytes);
    const empty = Buffer.alloc(0);
    const emptyDigest = `sha256:${createHash('sha256').update(empty).digest('hex')}`;
    expect(await store.putBytes(emptyDigest, empty)).toBe('written');
    expect(await store.size(emptyDigest)).toBe(0);
    await expect(store.ingest({ digest: blob(1).digest, size: 0 })).rejects.toBeInstanceOf(
      DigestMismatchError,
    );
    await store.close();
  });

  it('takes a stream that already ended, and refuses one destroyed with an error, instead of waiting forever', async () => {
    const store = await openStore();
    const b = blob(4096);
    const ingest = await mustIngest(store, b);
    const ended = Readable.from([]);
    ended.resume();
    await new Promise((resolve) => ended.once('end', resolve));
    expect(await ingest.write(ended)).toBe(0);
    const broken = new Readable({ read() {} });
    broken.on('error', () => {});
    broken.destroy(new Error('connection reset'));
    await new Promise((resolve) => broken.once('close', resolve));
    await expect(ingest.write(broken)).rejects.toThrow('connection reset');
    expect(await ingest.write(Readable.from([b.bytes]))).toBe(b.size);
    await ingest.commit();
    await store.close();
  });

  it('an error the stream emits on an abort is not an uncaught exception, and what arrived is kept', async () => {
    const store = await openStore();
    const b = blob(4096);
    const ingest = await mustIngest(store, b);
    const controller = new AbortController();
    const source = new Readable({ read() {} });
    // As undici does with a request's body: its abort listener, registered first, destroys the body with an error.
    controller.signal.addEventListener('abort', () => source.destroy(new Error('request aborted')));
    const writing = ingest.write(source, { signal: controller.signal });
    source.push(b.bytes.subarray(0, 1000));
    while (source.readableLength > 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('cancelled'));
    await expect(writing).rejects.toThrow('cancelled');
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
    expect(ingest.offset).toBe(1000);
    await ingest.close();
    await store.close();
  });

  it('a stream that fails before the ingest listens is reported, not thrown as an uncaught exception', async () => {
    const store = await openStore();
    const b = blob(4096);
    const ingest = await mustIngest(store, b);
    const source = new Readable({ read() {} });
    const writing = ingest.write(source);
    // The ingest is still opening its partial file: nothing listens to the stream's 'data' yet.
    source.destroy(new Error('connection reset'));
    await expect(writing).rejects.toThrow('connection reset');
    await ingest.close();
    await store.close();
  });

  it('refuses malformed digests at the edge, naming the field', async () => {
    const store = await openStore();
    for (const digest of [
      'sha256:abc',
      'md5:' + 'a'.repeat(32),
      'SHA256:' + 'a'.repeat(64),
      'a'.repeat(64),
    ]) {
      const error = await store.ingest({ digest, size: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidDigestArgumentError);
      expect((error as Error).message).toMatch(/^invalid digest: /);
    }
    await store.close();
  });
});
