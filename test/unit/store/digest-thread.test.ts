// The digest thread hashes each ingest's batches in the order they were handed over, keeps the ingests apart, and
// reports a failed request as a typed error without ending the other streams.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DigestStream, DigestThreadError } from '../../../daemon/store/digest-thread.ts';
import { checkAndRemoveRoots, tempRoot } from './helpers.ts';

afterAll(async () => {
  expect(await checkAndRemoveRoots()).toEqual([]);
});

function shared(bytes: Uint8Array): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}

const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

describe('DigestStream', () => {
  it('hashes updates in the order they were made, each stream on its own', async () => {
    const a = new DigestStream('sha256');
    const b = new DigestStream('sha512');
    const parts = [Buffer.from('first batch'), Buffer.alloc(70_000, 7), Buffer.from('last')];
    await Promise.all([a.restart(), b.restart()]);
    const updates = parts.flatMap((part) => [
      a.update(shared(part), part.byteLength),
      b.update(shared(part), Math.min(5, part.byteLength)),
    ]);
    const [digestA, digestB] = await Promise.all([a.digest(), b.digest(), ...updates]);
    expect(digestA).toBe(sha256(...parts));
    expect(digestB).toBe(
      createHash('sha512')
        .update(Buffer.concat(parts.map((p) => p.subarray(0, Math.min(5, p.byteLength)))))
        .digest('hex'),
    );
    a.end();
    b.end();
  });

  it('starts over a file prefix (a resumed partial), then goes on with new bytes', async () => {
    const root = await tempRoot();
    const path = join(root, 'partial');
    await writeFile(path, Buffer.alloc(3 * 1024 * 1024 + 5, 1));
    const stream = new DigestStream('sha256');
    await stream.restart({ path, length: 2 * 1024 * 1024 + 3 });
    const more = Buffer.from('appended');
    await stream.update(shared(more), more.byteLength);
    expect(await stream.digest()).toBe(sha256(Buffer.alloc(2 * 1024 * 1024 + 3, 1), more));
    stream.end();
  });

  it('a failed request is a typed error with its code, and the thread goes on serving', async () => {
    const root = await tempRoot();
    const stream = new DigestStream('sha256');
    const failed = await stream.restart({ path: join(root, 'missing'), length: 10 }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(DigestThreadError);
    expect((failed as DigestThreadError).code).toBe('ENOENT');
    const other = new DigestStream('sha256');
    await other.restart();
    await other.update(shared(Buffer.from('ok')), 2);
    expect(await other.digest()).toBe(sha256(Buffer.from('ok')));
    stream.end();
    other.end();
  });
});
