// A file's bytes in the read-buffer pool's buffers, 256 KiB per read. What the store reads back (a range's part file
// appended to the partial, a partial hashed again on resume) reaches the hashing thread in shared memory it reads in
// place, as network reads do, rather than as 64 KiB chunks of a file stream copied into staging buffers: the append
// of a 128 MiB blob's parts was the last half second of a throttled ranged pull.
import { open } from 'node:fs/promises';
import { readBuffers } from '../read-buffers.ts';

/**
 * Bytes [start, end) of the file at `path` (to its end when `end` is undefined), one pool buffer per read. Each chunk
 * is lent: whoever is done with it gives it back (giveBack); one never given back is only collected.
 */
export async function* readPooled(
  path: string,
  start: number,
  end?: number,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    for (let position = start; end === undefined || position < end; ) {
      signal?.throwIfAborted();
      const buffer = readBuffers.take();
      const length = end === undefined ? buffer.length : Math.min(buffer.length, end - position);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      if (bytesRead === 0) {
        readBuffers.put(buffer);
        return;
      }
      position += bytesRead;
      readBuffers.lend(buffer, 1);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
