// The prepare phase of a pull: everything that needs authorization is settled before the first stream byte, so a
// challenge or a refusal becomes an HTTP status. Tag → HEAD (digest) → GET by digest → platform manifest.

import type { OCIDescriptor, OCIPlatform } from '../../../api-spec/types.ts';
import {
  formatPlatform,
  MAX_MANIFEST_BYTES,
  type ParsedIndex,
  type ParsedManifest,
  parseManifest,
  platformMatches,
  refuseAnnouncedSize,
} from '../../../protocol/index.ts';
import { SMALL_BLOB_LIMIT } from '../../store/index.ts';
import { PlatformNotFoundError } from '../errors.ts';
import type { RepositoryClient } from '../repository-client.ts';

export interface ResolvedImage {
  /** What the tag or digest points at: an index or a manifest. */
  top: { descriptor: OCIDescriptor; bytes: Buffer };
  /** The platform manifest, when `top` is an index. */
  child?: { descriptor: OCIDescriptor; bytes: Buffer };
  manifest: ParsedManifest;
}

/** Resolves the top-level digest with one HEAD (enough to see that a present image is up to date). */
export async function headDigest(repo: RepositoryClient, reference: string): Promise<string | undefined> {
  if (reference.includes(':')) return reference;
  return (await repo.headManifest(reference))?.digest;
}

export async function resolveImage(
  repo: RepositoryClient,
  reference: string,
  digest: string | undefined,
  platform: OCIPlatform,
  familiar: string,
): Promise<ResolvedImage> {
  const fetched = await repo.getManifest(digest ?? reference);
  const parsed = parseManifest(fetched.bytes, fetched.mediaType, `manifest ${fetched.digest}`);
  const top = {
    descriptor: { mediaType: parsed.mediaType, digest: fetched.digest, size: fetched.size },
    bytes: fetched.bytes,
  };
  if (parsed.kind === 'manifest') return { top, manifest: refuseLargeConfig(parsed) };
  const entry = selectPlatform(parsed, platform, familiar);
  refuseAnnouncedSize(`manifest ${entry.digest}`, entry.size, MAX_MANIFEST_BYTES);
  const child = await repo.getManifest(entry.digest);
  const manifest = parseManifest(child.bytes, child.mediaType, `manifest ${child.digest}`);
  if (manifest.kind !== 'manifest') {
    throw new PlatformNotFoundError(`${familiar}: the platform entry ${entry.digest} is itself an index`);
  }
  refuseLargeConfig(manifest);
  return {
    top,
    child: {
      descriptor: { mediaType: manifest.mediaType, digest: child.digest, size: child.size, platform },
      bytes: child.bytes,
    },
    manifest,
  };
}

/** The store reads a config whole, up to its small-blob limit: a bigger one is refused before it is downloaded. */
function refuseLargeConfig(manifest: ParsedManifest): ParsedManifest {
  refuseAnnouncedSize(`config ${manifest.config.digest}`, manifest.config.size, SMALL_BLOB_LIMIT);
  return manifest;
}

function selectPlatform(index: ParsedIndex, platform: OCIPlatform, familiar: string): OCIDescriptor {
  const entry = index.manifests.find((m) => platformMatches(m.platform, platform));
  if (!entry) {
    throw new PlatformNotFoundError(
      `no matching manifest for ${formatPlatform(platform)} in the manifest list entries of ${familiar}`,
    );
  }
  return entry;
}
