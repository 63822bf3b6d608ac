// Reading a file back into the read-buffer pool's shared buffers: whole buffers per read, the asked range exactly,
// each chunk lent so that giving it back lets the pool read into it again, and an abort stops the reading.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { giveBack, READ_BUFFER_BYTES, readBuffers } from '../../../daemon/read-buffers.ts';
import { readPooled } from '../../../daemon/store/pooled-file-read.ts';
import { checkAndRemoveRoots, pseudoRandom, tempRoot } from './helpers.ts';

afterAll(async () => {
  expect(await checkAndRemoveRoots()).toEqual([]);
});

async function file(bytes: Buffer): Promise<string> {
  const path = join(await tempRoot(), 'part');
  await writeFile(path, bytes);
  return path;
}

describe('readPooled', () => {
  it('reads from the start to the end of the file in whole shared buffers', async () => {
    const bytes = pseudoRandom(2 * READ_BUFFER_BYTES + 1000, 3);
    const path = await file(bytes);
    const read: Buffer[] = [];
    for await (const chunk of readPooled(path, 100)) {
      expect(chunk.buffer).toBeInstanceOf(SharedArrayBuffer);
      read.push(Buffer.from(chunk));
      giveBack(chunk);
    }
    expect(read.map((c) => c.length)).toEqual([READ_BUFFER_BYTES, READ_BUFFER_BYTES, 900]);
    expect(Buffer.concat(read).equals(bytes.subarray(100))).toBe(true);
  });

  it('stops at the end asked for', async () => {
    const bytes = pseudoRandom(READ_BUFFER_BYTES + 10, 4);
    const path = await file(bytes);
    const read: Buffer[] = [];
    for await (const chunk of readPooled(path, 5, READ_BUFFER_BYTES + 7)) read.push(Buffer.from(chunk));
    expect(Buffer.concat(read).equals(bytes.subarray(5, READ_BUFFER_BYTES + 7))).toBe(true);
  });

  it('lends each chunk: the pool reads into its buffer again only once it was given back', async () => {
    const path = await file(pseudoRandom(1000, 5));
    for await (const chunk of readPooled(path, 0)) {
      const other = readBuffers.take();
      expect(other.buffer === chunk.buffer && other.byteOffset === chunk.byteOffset).toBe(false);
      readBuffers.put(other);
      giveBack(chunk);
      const again = readBuffers.take();
      expect(again.buffer === chunk.buffer && again.byteOffset === chunk.byteOffset).toBe(true);
      readBuffers.put(again);
    }
  });

  it('stops reading once its signal is aborted', async () => {
    const path = await file(pseudoRandom(3 * READ_BUFFER_BYTES, 6));
    const controller = new AbortController();
    const reading = (async () => {
      for await (const chunk of readPooled(path, 0, undefined, controller.signal)) {
        giveBack(chunk);
        controller.abort(new Error('stopped'));
      }
    })();
    await expect(reading).rejects.toThrow('stopped');
  });
});
