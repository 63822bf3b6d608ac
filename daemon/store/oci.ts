// The OCI and Docker content types the store walks, and the edge parsers that turn stored JSON into them.
import { isIndexMediaType, isManifestMediaType, type Platform } from '../../protocol/index.ts';
import { parseDigest, parseSize } from './digest.ts';
import { CorruptContentError, InvalidArgumentError } from './errors.ts';

/** The annotation that names an image in an OCI layout's index.json (`oci:<dir>:<name>` in skopeo). */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

// The vocabulary is protocol/'s; the store re-exports what its own callers name.
export { MEDIA_TYPES } from '../../protocol/index.ts';
export type { Platform };

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
  artifactType?: string;
}

/** Validates a descriptor from untrusted JSON, keeping only the fields the image spec defines. */
export function parseDescriptor(value: unknown, field = 'descriptor'): Descriptor {
  if (!isObject(value)) throw new InvalidArgumentError(field, 'not an object');
  if (typeof value.mediaType !== 'string' || value.mediaType === '') {
    throw new InvalidArgumentError(`${field}.mediaType`, 'missing');
  }
  const descriptor: Descriptor = {
    mediaType: value.mediaType,
    digest: parseDigest(value.digest, `${field}.digest`).value,
    size: parseSize(value.size, `${field}.size`),
  };
  if (value.annotations !== undefined) {
    descriptor.annotations = parseStringMap(value.annotations, `${field}.annotations`);
  }
  if (value.platform !== undefined) descriptor.platform = parsePlatform(value.platform, `${field}.platform`);
  if (Array.isArray(value.urls) && value.urls.every((u) => typeof u === 'string'))
    descriptor.urls = value.urls;
  if (typeof value.artifactType === 'string') descriptor.artifactType = value.artifactType;
  return descriptor;
}

export function parsePlatform(value: unknown, field = 'platform'): Platform {
  if (!isObject(value)) throw new InvalidArgumentError(field, 'not an object');
  if (typeof value.os !== 'string' || value.os === '')
    throw new InvalidArgumentError(`${field}.os`, 'missing');
  if (typeof value.architecture !== 'string' || value.architecture === '') {
    throw new InvalidArgumentError(`${field}.architecture`, 'missing');
  }
  const platform: Platform = { architecture: value.architecture, os: value.os };
  if (typeof value.variant === 'string' && value.variant !== '') platform.variant = value.variant;
  if (typeof value['os.version'] === 'string' && value['os.version'] !== '') {
    platform['os.version'] = value['os.version'];
  }
  const features = value['os.features'];
  if (Array.isArray(features) && features.length > 0 && features.every((f) => typeof f === 'string')) {
    platform['os.features'] = features;
  }
  return platform;
}

export type ParsedContent =
  | { kind: 'index'; manifests: Descriptor[] }
  | { kind: 'manifest'; config: Descriptor; layers: Descriptor[] }
  | { kind: 'other' };

/**
 * Reads the children of a stored manifest or index. The type comes from the descriptor, else the document's own
 * `mediaType`, else its shape, so that nothing a manifest references is missed by the garbage collector.
 */
export function parseContent(json: unknown, mediaType: string | undefined, digest: string): ParsedContent {
  if (!isObject(json)) return { kind: 'other' };
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  const isIndex =
    isIndexMediaType(mediaType) ||
    isIndexMediaType(declared) ||
    (!mediaType && Array.isArray(json.manifests));
  const isManifest =
    isManifestMediaType(mediaType) ||
    isManifestMediaType(declared) ||
    (!mediaType && isObject(json.config) && Array.isArray(json.layers));
  try {
    if (isIndex) {
      if (!Array.isArray(json.manifests)) throw new InvalidArgumentError('manifests', 'not an array');
      return {
        kind: 'index',
        manifests: json.manifests.map((m, i) => parseDescriptor(m, `manifests[${i}]`)),
      };
    }
    if (isManifest) {
      if (!Array.isArray(json.layers)) throw new InvalidArgumentError('layers', 'not an array');
      return {
        kind: 'manifest',
        config: parseDescriptor(json.config, 'config'),
        layers: json.layers.map((l, i) => parseDescriptor(l, `layers[${i}]`)),
      };
    }
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new CorruptContentError(digest, error.message);
    throw error;
  }
  return { kind: 'other' };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseStringMap(value: unknown, field: string): Record<string, string> {
  if (!isObject(value)) throw new InvalidArgumentError(field, 'not an object');
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new InvalidArgumentError(`${field}.${key}`, 'not a string');
    out[key] = v;
  }
  return out;
}
