// GET /v2/<name>/manifests/<tag|digest>: what a reference points at, read from the registry without pulling.
// The body is bounded (MAX_MANIFEST_BYTES) and hashed: a reference by digest must get exactly that content, and the
// digest reported is the one computed here, not the registry's say-so.

import { createHash } from 'node:crypto';
import type { OCIPlatform } from '../../api-spec/index.ts';
import {
  baseMediaType,
  DEFAULT_TAG,
  MANIFEST_ACCEPT_HEADER,
  MAX_MANIFEST_BYTES,
  parseDigest,
  parseManifest,
  parseReference,
} from '../../protocol/index.ts';
import { RegistryResponseError } from './errors.ts';
import { registryOrigin } from './origin.ts';
import { refusal } from './refusal.ts';
import { type BrowseOptions, RegistryFetcher } from './registry-fetch.ts';

export interface ManifestBlob {
  mediaType: string;
  digest: string;
  size: number;
}

interface InspectedManifest {
  /** The full reference asked for (`127.0.0.1:5000/small:1`, `docker.io/library/alpine:latest`). */
  reference: string;
  /** `host[:port]` that answered. */
  registry: string;
  repository: string;
  mediaType: string;
  /** sha256 (or the reference's algorithm) of the manifest bytes. */
  digest: string;
  /** Size of the manifest itself in bytes. */
  size: number;
}

/** An index (multi-platform image): one entry per manifest, with its platform when the index names one. */
export interface InspectedIndex extends InspectedManifest {
  kind: 'index';
  manifests: (ManifestBlob & { platform?: OCIPlatform })[];
}

/** A single image: its config and layers, and what they add up to (compressed, as stored in the registry). */
export interface InspectedImage extends InspectedManifest {
  kind: 'manifest';
  config: ManifestBlob;
  layers: ManifestBlob[];
  /** Config and layers, in bytes. */
  totalSize: number;
}

export type ManifestInspection = InspectedIndex | InspectedImage;

export async function inspectManifest(ref: string, options: BrowseOptions = {}): Promise<ManifestInspection> {
  const parsed = parseReference(ref);
  const reference = parsed.digest ?? parsed.tag ?? DEFAULT_TAG;
  const target = registryOrigin(parsed.domain);
  const resource = { kind: 'manifest', repository: parsed.path, reference } as const;
  const answer = await new RegistryFetcher(target, options).get({
    url: new URL(`/v2/${parsed.path}/manifests/${reference}`, target.origin),
    repository: parsed.path,
    accept: MANIFEST_ACCEPT_HEADER,
    limit: MAX_MANIFEST_BYTES,
    what: `manifest ${parsed.path}:${reference}`,
  });
  if (answer.status !== 200) throw refusal(target.host, resource, answer);
  const algorithm = parsed.digest ? parseDigest(parsed.digest).algorithm : 'sha256';
  const digest = `${algorithm}:${createHash(algorithm).update(answer.body).digest('hex')}`;
  if (parsed.digest !== undefined && digest !== parsed.digest) {
    throw new RegistryResponseError(
      target.host,
      200,
      'body',
      `registry ${target.host} answered ${parsed.digest} with content whose digest is ${digest}`,
    );
  }
  const contentType = answer.headers['content-type'];
  const manifest = parseManifest(
    answer.body,
    baseMediaType(typeof contentType === 'string' ? contentType : undefined),
    `manifest ${parsed.path}:${reference}`,
  );
  const base = {
    reference: parsed.digest ? `${parsed.name}@${parsed.digest}` : `${parsed.name}:${reference}`,
    registry: target.host,
    repository: parsed.path,
    mediaType: manifest.mediaType,
    digest,
    size: answer.body.length,
  };
  if (manifest.kind === 'index') {
    return {
      ...base,
      kind: 'index',
      manifests: manifest.manifests.map((m) => ({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.size,
        ...(m.platform ? { platform: m.platform } : {}),
      })),
    };
  }
  const blob = (d: ManifestBlob): ManifestBlob => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
  });
  const layers = manifest.layers.map(blob);
  return {
    ...base,
    kind: 'manifest',
    config: blob(manifest.config),
    layers,
    totalSize: layers.reduce((sum, l) => sum + l.size, manifest.config.size),
  };
}
