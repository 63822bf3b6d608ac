import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { ContentStore } from '../../../daemon/store/content-store.ts';
import {
  BlobNotFoundError,
  BlobTooLargeError,
  CorruptContentError,
  DigestMismatchError,
} from '../../../daemon/store/errors.ts';
import { blob, checkAndRemoveRoots, sha256, tempRoot } from './helpers.ts';

afterAll(async () => {
  expect(await checkAndRemoveRoots()).toEqual([]);
});

describe('ContentStore', () => {
  it('creates an OCI image layout', async () => {
    const root = await tempRoot();
    const store = await ContentStore.open(root);
    expect((await readdir(join(root, 'oci'))).sort()).toEqual(['blobs', 'ingest', 'oci-layout']);
    expect(
      JSON.parse(await (await import('node:fs/promises')).readFile(join(root, 'oci', 'oci-layout'), 'utf8')),
    ).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    await store.close();
  });

  it('keeps the data root to its owner (0700): a new one, a missing parent, and an existing open one', async () => {
    const parent = await tempRoot();
    const fresh = join(parent, 'a', 'data');
    const store = await ContentStore.open(fresh);
    expect((await stat(fresh)).mode & 0o777).toBe(0o700);
    await store.close();

    const existing = join(parent, 'open');
    await mkdir(existing, { mode: 0o755 });
    await chmod(existing, 0o777);
    const reopened = await ContentStore.open(existing);
    expect((await stat(existing)).mode & 0o777).toBe(0o700);
    await reopened.close();
  });

  it('stores small blobs, reads them back whole, as JSON, or as a stream from an offset', async () => {
    const store = await ContentStore.open(await tempRoot());
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, hello: 'world' }));
    const digest = sha256(bytes);
    expect(await store.has(digest)).toBe(false);
    expect(await store.putBytes(digest, bytes)).toBe('written');
    expect(await store.putBytes(digest, bytes)).toBe('exists');
    expect(await store.has(digest)).toBe(true);
    expect(await store.size(digest)).toBe(bytes.length);
    expect(store.blobPath(digest)).toBe(join(store.root, 'oci', 'blobs', 'sha256', digest.slice(7)));
    expect(await store.readJson(digest)).toEqual({ schemaVersion: 2, hello: 'world' });
    expect(await text(await store.openRead(digest, { start: 2 }))).toBe(bytes.subarray(2).toString());
    await store.close();
  });

  it('refuses bytes that do not match their digest, leaving nothing behind', async () => {
    const store = await ContentStore.open(await tempRoot());
    const digest = sha256(Buffer.from('right'));
    await expect(store.putBytes(digest, Buffer.from('wrong'))).rejects.toBeInstanceOf(DigestMismatchError);
    expect(await store.has(digest)).toBe(false);
    expect(await readdir(join(store.root, 'oci', 'ingest'))).toEqual([]);
    await store.close();
  });

  it('names a missing blob, an oversized read and a corrupted blob', async () => {
    const store = await ContentStore.open(await tempRoot());
    const missing = blob(10).digest;
    await expect(store.size(missing)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.openRead(missing)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.readJson(missing)).rejects.toThrow(missing);

    const big = blob(5 * 1024 * 1024);
    await store.putBytes(big.digest, big.bytes);
    await expect(store.readBytes(big.digest)).rejects.toBeInstanceOf(BlobTooLargeError);
    expect((await store.readBytes(big.digest, { maxBytes: big.size })).length).toBe(big.size);

    const notJson = Buffer.from('not json');
    await store.putBytes(sha256(notJson), notJson);
    await expect(store.readJson(sha256(notJson))).rejects.toBeInstanceOf(CorruptContentError);

    const good = Buffer.from('{"a":1}');
    await store.putBytes(sha256(good), good);
    await writeFile(store.blobPath(sha256(good)), '{"a":2}');
    await expect(store.readJson(sha256(good))).rejects.toThrow(/stored bytes hash to/);
    await writeFile(store.blobPath(sha256(good)), good);
    await store.close();
  });

  it('refuses work after close', async () => {
    const store = await ContentStore.open(await tempRoot());
    await store.close();
    const b = blob(10);
    await expect(store.ingest(b)).rejects.toThrow(/closed/);
  });
});
