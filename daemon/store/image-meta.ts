// What `docker images` needs to know about an image, and how to derive it from the content itself: the metadata
// file is a cache of this, rebuilt from index.json and the blobs whenever it is missing or stale.
import { hostPlatform, platformMatches } from '../../protocol/index.ts';
import type { ContentStore } from './content-store.ts';
import { parseDigest, parseSize } from './digest.ts';
import { BlobNotFoundError, CorruptContentError, InvalidArgumentError } from './errors.ts';
import { type Descriptor, isObject, type Platform, parseContent, parsePlatform } from './oci.ts';

export interface ImageMeta {
  /** The image ID, as docker: the config digest. */
  imageId: string;
  /** The platform's manifest: the target itself when the target is a manifest, a child when it is an index. */
  manifestDigest: string;
  platform: Platform;
  /** Bytes the image occupies in the store: its config plus its (compressed) layers. */
  size: number;
  /** The config's `created` (RFC 3339), when it has one. */
  created?: string;
  /** When the image was pulled (RFC 3339), as the puller recorded it; absent for derived metadata. */
  pulledAt?: string;
}

/** Validates metadata from a caller or from the metadata file. */
export function parseImageMeta(value: unknown, field = 'meta'): ImageMeta {
  if (!isObject(value)) throw new InvalidArgumentError(field, 'not an object');
  const meta: ImageMeta = {
    imageId: parseDigest(value.imageId, `${field}.imageId`).value,
    manifestDigest: parseDigest(value.manifestDigest, `${field}.manifestDigest`).value,
    platform: parsePlatform(value.platform, `${field}.platform`),
    size: parseSize(value.size, `${field}.size`),
  };
  for (const key of ['created', 'pulledAt'] as const) {
    if (value[key] === undefined) continue;
    if (typeof value[key] !== 'string') throw new InvalidArgumentError(`${field}.${key}`, 'not a string');
    meta[key] = value[key];
  }
  return meta;
}

/**
 * Reads the target's manifest and config from the store. For an index, the child chosen is the one matching
 * `prefer` (default: this host's platform) among the children whose manifest is present; docker pulls only one.
 */
export async function deriveImageMeta(
  content: ContentStore,
  target: Descriptor,
  prefer?: Platform,
): Promise<ImageMeta> {
  let manifest = target;
  const top = parseContent(await content.readJson(target.digest), target.mediaType, target.digest);
  if (top.kind === 'index') {
    const present: Descriptor[] = [];
    for (const child of top.manifests) {
      if (child.platform && !isAttestation(child) && (await content.has(child.digest))) present.push(child);
    }
    const wanted = prefer ?? hostPlatform();
    const chosen = present.find((c) => platformMatches(c.platform, wanted)) ?? present[0];
    if (!chosen) throw new BlobNotFoundError(top.manifests[0]?.digest ?? target.digest);
    manifest = chosen;
  }
  const parsed =
    manifest === target
      ? top
      : parseContent(await content.readJson(manifest.digest), manifest.mediaType, manifest.digest);
  if (parsed.kind !== 'manifest')
    throw new CorruptContentError(manifest.digest, 'not an image manifest or index');
  const config = await content.readJson(parsed.config.digest);
  if (!isObject(config)) throw new CorruptContentError(parsed.config.digest, 'config is not a JSON object');
  let platform: Platform;
  try {
    platform = parsePlatform(config, 'config');
  } catch (error) {
    if (error instanceof InvalidArgumentError)
      throw new CorruptContentError(parsed.config.digest, error.message);
    throw error;
  }
  const meta: ImageMeta = {
    imageId: parsed.config.digest,
    manifestDigest: manifest.digest,
    platform,
    size: parsed.config.size + parsed.layers.reduce((sum, layer) => sum + layer.size, 0),
  };
  if (typeof config.created === 'string') meta.created = config.created;
  return meta;
}

function isAttestation(child: Descriptor): boolean {
  return child.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
}
