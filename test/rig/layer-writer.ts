// Writes one image layer to disk as a stream: a tar holding a single file of deterministic bytes, gzip-wrapped,
// hashing the tar (diff_id) and the gzip (digest) on the way. Memory stays flat whatever the size.
//
// Level 0 is written by hand as stored deflate blocks: node's zlib at level 0 runs at ~100 MB/s, this at ~1 GB/s,
// and the output is ordinary gzip (Go, Python and zcat read it).
import { createCipheriv, createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createGzip } from 'node:zlib';
import { tarEnd, tarHeader, tarPadding } from '../../daemon/archive/tar-writer.ts';

export interface LayerRequest {
  /** Size of the one file in the tar, bytes. */
  fileSize: number;
  /** Name of that file inside the tar. */
  fileName: string;
  /** PRNG seed: the same seed gives the same bytes. */
  seed: string;
  fill: 'random' | 'zero';
  gzipLevel: number;
}

export interface WrittenLayer {
  digest: string;
  /** Compressed size. */
  size: number;
  diffId: string;
  uncompressedSize: number;
}

const CHUNK = 1 << 20;
/** Fixed mtime so identical requests give identical bytes. 2024-01-01T00:00:00Z. */
const MTIME = 1704067200;

/** Deterministic pseudo-random bytes: the AES-128-CTR keystream keyed by the seed (fast thanks to AES-NI). */
export function* pseudoRandomChunks(seed: string, total: number, fill: 'random' | 'zero'): Generator<Buffer> {
  const zeros = Buffer.alloc(Math.min(CHUNK, total));
  const key = createHash('sha256').update(`dockhand-rig:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  for (let left = total; left > 0; left -= CHUNK) {
    const input = left >= CHUNK ? zeros : zeros.subarray(0, left);
    yield fill === 'zero' ? Buffer.from(input) : cipher.update(input);
  }
}

function* tarStream(request: LayerRequest): Generator<Buffer> {
  yield tarHeader(request.fileName, request.fileSize, { mtime: MTIME });
  yield* pseudoRandomChunks(request.seed, request.fileSize, request.fill);
  yield tarPadding(request.fileSize);
  yield tarEnd();
}

/** gzip with stored (uncompressed) deflate blocks. */
export class StoredGzip extends Transform {
  private crc = 0;
  private length = 0;
  private started = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.started) {
      this.started = true;
      // ID1 ID2, CM=deflate, no flags, mtime 0, XFL 0, OS=unix.
      this.push(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
    }
    this.crc = crc32(chunk, this.crc);
    this.length = (this.length + chunk.length) % 2 ** 32;
    for (let offset = 0; offset < chunk.length; offset += 0xffff) {
      const part = chunk.subarray(offset, offset + 0xffff);
      const head = Buffer.alloc(5);
      head.writeUInt16LE(part.length, 1);
      head.writeUInt16LE(~part.length & 0xffff, 3);
      this.push(head);
      this.push(part);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.started) this.push(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
    const tail = Buffer.alloc(13);
    tail.set([1, 0, 0, 0xff, 0xff]);
    tail.writeUInt32LE(this.crc >>> 0, 5);
    tail.writeUInt32LE(this.length, 9);
    callback(null, tail);
  }
}

class Tap extends Transform {
  bytes = 0;
  constructor(private readonly hash: Hash) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

/** Writes the layer into `blobsDir` (an OCI `blobs/sha256` dir) under its digest. */
export async function writeLayer(blobsDir: string, request: LayerRequest): Promise<WrittenLayer> {
  const temp = join(blobsDir, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const diffIdHash = createHash('sha256');
  const compressedHash = createHash('sha256');
  const uncompressed = new Tap(diffIdHash);
  const compressed = new Tap(compressedHash);
  const gzip = request.gzipLevel === 0 ? new StoredGzip() : createGzip({ level: request.gzipLevel });
  try {
    await pipeline(
      Readable.from(tarStream(request)),
      uncompressed,
      gzip,
      compressed,
      createWriteStream(temp),
    );
    const hex = compressedHash.digest('hex');
    await rename(temp, join(blobsDir, hex));
    return {
      digest: `sha256:${hex}`,
      size: compressed.bytes,
      diffId: `sha256:${diffIdHash.digest('hex')}`,
      uncompressedSize: uncompressed.bytes,
    };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
