// Shared fixtures for the store tests: temp data roots, deterministic blobs, sources that count what they serve.
export { deferred } from '../../helpers/deferred.ts';

import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const roots: string[] = [];

export async function tempRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'dockhand-store-'));
  roots.push(root);
  return root;
}

/** Every file under each temp root's blobs/ hashes to its own name; then the roots are removed. */
export async function checkAndRemoveRoots(): Promise<string[]> {
  const problems: string[] = [];
  for (const root of roots.splice(0)) {
    const blobs = join(root, 'oci', 'blobs');
    for (const algorithm of await readdir(blobs).catch(() => [] as string[])) {
      for (const hex of await readdir(join(blobs, algorithm))) {
        const bytes = await readFile(join(blobs, algorithm, hex));
        const actual = createHash(algorithm).update(bytes).digest('hex');
        if (actual !== hex) problems.push(`${root}: blobs/${algorithm}/${hex} hashes to ${actual}`);
      }
    }
    await rm(root, { recursive: true, force: true });
  }
  return problems;
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Deterministic pseudo-random bytes (xorshift), so a blob can be produced twice without keeping it. */
export function pseudoRandom(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function blob(size: number, seed = 1): { bytes: Buffer; digest: string; size: number } {
  const bytes = pseudoRandom(size, seed);
  return { bytes, digest: sha256(bytes), size };
}

/** Yields `bytes` in chunks of `chunkSize`. */
export async function* chunks(bytes: Uint8Array, chunkSize = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += chunkSize) {
    yield bytes.subarray(at, Math.min(at + chunkSize, bytes.byteLength));
  }
}

/** Yields the first `upTo` bytes, then fails like a dropped connection. */
export async function* dropsAfter(
  bytes: Uint8Array,
  upTo: number,
  chunkSize = 4096,
): AsyncGenerator<Uint8Array> {
  yield* chunks(bytes.subarray(0, upTo), chunkSize);
  throw new Error('connection reset by test');
}

/** A blob server for fetchBlob: records each `open(offset)` and serves `bytes` from there. */
export function server(bytes: Uint8Array) {
  const offsets: number[] = [];
  return {
    offsets,
    open: async (offset: number) => {
      offsets.push(offset);
      return chunks(bytes.subarray(offset));
    },
  };
}
