// Manifests and indexes parsed from untrusted registry JSON into typed values; schema1 is refused by name.

import type { OCIDescriptor, OCIPlatform } from '../api-spec/types.ts';
import { isDigest } from './digest.ts';
import {
  IMAGE_MANIFEST_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  MEDIA_TYPES,
  SCHEMA1_MEDIA_TYPES,
} from './media-types.ts';

export interface ParsedManifest {
  kind: 'manifest';
  mediaType: string;
  config: OCIDescriptor;
  layers: OCIDescriptor[];
}

export interface ParsedIndex {
  kind: 'index';
  mediaType: string;
  manifests: (OCIDescriptor & { platform?: OCIPlatform })[];
}

/** Manifests and indexes are small; a body over this is refused rather than held in memory. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export class UnsupportedManifestError extends Error {
  override readonly name = 'UnsupportedManifestError';
}

const INDEX_TYPES = new Set(INDEX_MEDIA_TYPES);
const MANIFEST_TYPES = new Set(IMAGE_MANIFEST_MEDIA_TYPES);
const SCHEMA1_TYPES = new Set(SCHEMA1_MEDIA_TYPES);

export function parseManifest(
  bytes: Buffer,
  contentType: string,
  where: string,
): ParsedManifest | ParsedIndex {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UnsupportedManifestError(`${where}: manifest is not valid JSON`);
  }
  const doc = asObject(json, where);
  const mediaType = typeof doc.mediaType === 'string' && doc.mediaType !== '' ? doc.mediaType : contentType;
  if (SCHEMA1_TYPES.has(mediaType) || doc.schemaVersion === 1) {
    throw new UnsupportedManifestError(
      `${where}: Docker Image Format v1 and Docker Image manifest version 2, schema 1 are not supported; ` +
        'push the image again with a current client',
    );
  }
  if (INDEX_TYPES.has(mediaType) || (Array.isArray(doc.manifests) && !MANIFEST_TYPES.has(mediaType))) {
    const manifests = asArray(doc.manifests, `${where}.manifests`).map((m, i) =>
      descriptor(m, `${where}.manifests[${i}]`),
    );
    return { kind: 'index', mediaType: mediaType || MEDIA_TYPES.ociIndex, manifests };
  }
  if (MANIFEST_TYPES.has(mediaType) || doc.config !== undefined) {
    return {
      kind: 'manifest',
      mediaType: mediaType || MEDIA_TYPES.ociManifest,
      config: descriptor(doc.config, `${where}.config`),
      layers: asArray(doc.layers, `${where}.layers`).map((l, i) => descriptor(l, `${where}.layers[${i}]`)),
    };
  }
  throw new UnsupportedManifestError(`${where}: unsupported manifest media type "${mediaType}"`);
}

function descriptor(value: unknown, where: string): OCIDescriptor & { platform?: OCIPlatform } {
  const d = asObject(value, where);
  if (typeof d.mediaType !== 'string') throw new UnsupportedManifestError(`${where}.mediaType: missing`);
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) {
    throw new UnsupportedManifestError(`${where}.digest: not a sha256/sha512 digest`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new UnsupportedManifestError(`${where}.size: not a non-negative integer`);
  }
  const out: OCIDescriptor & { platform?: OCIPlatform } = {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
  };
  if (d.platform !== undefined) {
    const p = asObject(d.platform, `${where}.platform`);
    if (typeof p.os !== 'string' || typeof p.architecture !== 'string') {
      throw new UnsupportedManifestError(`${where}.platform: os and architecture are required`);
    }
    out.platform = {
      os: p.os,
      architecture: p.architecture,
      ...(typeof p.variant === 'string' ? { variant: p.variant } : {}),
    };
  }
  if (d.annotations !== undefined && typeof d.annotations === 'object' && d.annotations !== null) {
    out.annotations = Object.fromEntries(
      Object.entries(d.annotations).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  }
  return out;
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UnsupportedManifestError(`${where}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

function asArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new UnsupportedManifestError(`${where}: expected an array`);
  return value;
}
