import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { giveBack, readBuffers } from '../../../daemon/read-buffers.ts';
import { blobHash, THREADED_HASH_MIN_BYTES } from '../../../daemon/store/blob-hash.ts';

/** Chunks as the network hands them out: views of the shared pool's buffers, lent to the reader. */
function lentChunk(bytes: Uint8Array): Buffer {
  const buffer = readBuffers.take();
  buffer.set(bytes);
  readBuffers.lend(buffer, 1);
  return buffer.subarray(0, bytes.byteLength);
}

/** Whether two views begin at the same byte of the same memory (the pool's buffers share slabs). */
function sameMemory(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset;
}

describe('blob hashes', () => {
  it('hash large blobs on the thread to the same digest as in place, whatever the chunks', async () => {
    const bytes = randomBytes(3 * THREADED_HASH_MIN_BYTES + 12345);
    const expected = createHash('sha256').update(bytes).digest('hex');
    const hash = blobHash('sha256', bytes.byteLength);
    const reused: Buffer[] = [];
    for (let at = 0, i = 0; at < bytes.byteLength; i++) {
      const size = [300000, 65536, 7, 262144, 1, 99999][i % 6] as number;
      const piece = bytes.subarray(at, at + size);
      at += piece.byteLength;
      if (i % 2 === 0) {
        hash.update(piece);
        // An unshared chunk may be reused by its owner at once: the thread must have its own copy.
        piece.fill(0);
      } else {
        const chunk = lentChunk(piece);
        hash.update(chunk);
        reused.push(chunk);
      }
      if (hash.behind) await hash.caughtUp();
    }
    expect(await hash.digest()).toBe(expected);
    hash.close();
  });

  it('give a lent chunk back only once the thread is through with it and its other reader gave it back', async () => {
    const hash = blobHash('sha256', THREADED_HASH_MIN_BYTES);
    const chunk = lentChunk(randomBytes(1000));
    hash.update(chunk);
    // The writer is done with it; the thread cannot have answered yet (no turn of the event loop since).
    giveBack(chunk);
    const next = readBuffers.take();
    expect(sameMemory(next, chunk)).toBe(false);
    readBuffers.put(next);
    // Once the thread is through, the pool has it again.
    await expect
      .poll(() => {
        const taken = readBuffers.take();
        readBuffers.put(taken);
        return sameMemory(taken, chunk);
      })
      .toBe(true);
    hash.close();
  });

  it('pause the writer when the thread falls behind, and wake it when it catches up', async () => {
    const hash = blobHash('sha256', 64 * THREADED_HASH_MIN_BYTES);
    for (let i = 0; i < 8; i++) hash.update(randomBytes(256 * 1024));
    expect(hash.behind).toBe(true);
    await hash.caughtUp();
    expect(hash.behind).toBe(false);
    hash.close();
  });

  it('hash small blobs in place', async () => {
    const hash = blobHash('sha256', 10);
    hash.update(Buffer.from('0123456789'));
    expect(hash.behind).toBe(false);
    expect(await hash.digest()).toBe(createHash('sha256').update('0123456789').digest('hex'));
  });
});
