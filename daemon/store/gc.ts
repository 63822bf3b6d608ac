// Mark and sweep, as containerd's garbage collector. Marked: every descriptor index.json lists, walked through
// indexes to manifests and from manifests to their config and layers, plus every digest a live lease holds.
// Swept: every other blob. Partial downloads go only when asked, and never one a lease holds or an ingest is using.
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isIndexMediaType, isManifestMediaType } from '../../protocol/index.ts';
import type { ContentStore } from './content-store.ts';
import { algorithmForHex, isDigestAlgorithm } from './digest.ts';
import type { ImageIndex } from './image-index.ts';
import { DataRootLayout } from './layout.ts';
import { type Descriptor, parseContent } from './oci.ts';

export interface GcOptions {
  /** Also delete partial downloads no lease holds; with `olderThanMs`, only those untouched for that long. */
  partials?: boolean | { olderThanMs: number };
}

export interface GcResult {
  /** Digests of the blobs deleted. */
  deleted: string[];
  /** Bytes those blobs occupied. */
  bytes: number;
  /** Digests whose partial download was deleted. */
  partials: string[];
  partialBytes: number;
}

export async function collectGarbage(
  content: ContentStore,
  images: ImageIndex,
  options: GcOptions = {},
): Promise<GcResult> {
  // Exclusive with tagging: a pull tags its image before releasing its lease, so its content is always marked.
  return images.exclusive(async () => {
    const marked = await mark(content, images.roots());
    const result: GcResult = { deleted: [], bytes: 0, partials: [], partialBytes: 0 };
    await sweepBlobs(content, marked, result);
    if (options.partials) {
      const olderThanMs = options.partials === true ? 0 : options.partials.olderThanMs;
      await sweepPartials(content, olderThanMs, result);
    }
    return result;
  });
}

async function mark(content: ContentStore, roots: Descriptor[]): Promise<Set<string>> {
  const marked = new Set<string>();
  const pending = [...roots];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (marked.has(next.digest)) continue;
    marked.add(next.digest);
    if (!isIndexMediaType(next.mediaType) && !isManifestMediaType(next.mediaType)) continue;
    if (!(await content.has(next.digest))) continue;
    // An unreadable manifest throws: its children are unknown, so sweeping could delete what it references.
    const parsed = parseContent(await content.readJson(next.digest), next.mediaType, next.digest);
    if (parsed.kind === 'index') pending.push(...parsed.manifests);
    if (parsed.kind === 'manifest') pending.push(parsed.config, ...parsed.layers);
  }
  return marked;
}

async function sweepBlobs(content: ContentStore, marked: Set<string>, result: GcResult): Promise<void> {
  for (const algorithm of await readdir(content.layout.blobs)) {
    if (!isDigestAlgorithm(algorithm)) continue;
    for (const hex of await readdir(content.layout.blobDir(algorithm))) {
      if (algorithmForHex(hex) !== algorithm) continue; // not a blob name: not ours to delete
      const digest = `${algorithm}:${hex}`;
      if (marked.has(digest)) continue;
      const bytes = await deleteUnlessHeld(content, digest, content.layout.blobPath(algorithm, hex), 0);
      if (bytes === undefined) continue;
      result.deleted.push(digest);
      result.bytes += bytes;
    }
  }
}

async function sweepPartials(content: ContentStore, olderThanMs: number, result: GcResult): Promise<void> {
  for (const name of await readdir(content.layout.ingest)) {
    const hex = DataRootLayout.ingestFileHex(name) ?? '';
    const algorithm = algorithmForHex(hex);
    if (!algorithm) continue;
    const digest = `${algorithm}:${hex}`;
    const bytes = await deleteUnlessHeld(content, digest, join(content.layout.ingest, name), olderThanMs);
    if (bytes === undefined) continue;
    if (!result.partials.includes(digest)) result.partials.push(digest);
    result.partialBytes += bytes;
  }
}

/**
 * Deletes `path` under the digest's lock, so no ingest or download of it runs meanwhile, and only if no lease holds
 * the digest at that moment (a pull takes its lease before it takes the lock). Returns the bytes freed.
 */
async function deleteUnlessHeld(
  content: ContentStore,
  digest: string,
  path: string,
  olderThanMs: number,
): Promise<number | undefined> {
  const release = content.tryLockDigest(digest);
  if (!release) return undefined;
  try {
    if (content.leases.holds(digest)) return undefined;
    const info = await stat(path).catch(() => undefined);
    if (!info || Date.now() - info.mtimeMs < olderThanMs) return undefined;
    await unlink(path);
    return info.size;
  } finally {
    release();
  }
}
