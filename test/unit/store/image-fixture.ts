// Tiny valid images written through the store API: a gzip'd tar layer, a config whose diff_id matches it, and an
// OCI (or Docker schema2) manifest; optionally an index over several of them.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tarEnd, tarHeader, tarPadding } from '../../../daemon/archive/tar-writer.ts';
import type { ContentStore } from '../../../daemon/store/content-store.ts';
import { type Descriptor, MEDIA_TYPES, type Platform } from '../../../daemon/store/oci.ts';
import { chunks, sha256 } from './helpers.ts';

export interface WrittenImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** Every digest the image consists of. */
  digests: string[];
}

/** A ustar archive holding one regular file. */
export function tarWithFile(name: string, content: Buffer): Buffer {
  return Buffer.concat([tarHeader(name, content.length), content, tarPadding(content.length), tarEnd()]);
}

export async function writeImage(
  store: ContentStore,
  options: { seed?: number; platform?: Platform; docker?: boolean; sharedLayer?: Buffer } = {},
): Promise<WrittenImage> {
  const seed = options.seed ?? 1;
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const layerTars = [tarWithFile(`file-${seed}.txt`, Buffer.from(`layer of image ${seed}\n`))];
  if (options.sharedLayer) layerTars.unshift(options.sharedLayer);
  const layers: Descriptor[] = [];
  for (const tar of layerTars) {
    const gz = gzipSync(tar);
    const layer = {
      mediaType: options.docker ? MEDIA_TYPES.dockerLayerGzip : MEDIA_TYPES.ociLayerGzip,
      digest: sha256(gz),
      size: gz.length,
    };
    // Layers go through the streaming path, as a pull's would.
    await store.fetchBlob(layer, async () => chunks(gz, 100));
    layers.push(layer);
  }
  const configJson = Buffer.from(
    JSON.stringify({
      created: `2024-01-0${(seed % 9) + 1}T00:00:00Z`,
      ...platform,
      config: { Env: ['PATH=/usr/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layerTars.map((t) => sha256(t)) },
      history: layerTars.map(() => ({ created_by: 'test' })),
    }),
  );
  const config = {
    mediaType: options.docker ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.ociConfig,
    digest: sha256(configJson),
    size: configJson.length,
  };
  await store.putBytes(config.digest, configJson);
  const manifestJson = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: options.docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest,
      config,
      layers,
    }),
  );
  const manifest = {
    mediaType: options.docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest,
    digest: sha256(manifestJson),
    size: manifestJson.length,
  };
  await store.putBytes(manifest.digest, manifestJson);
  return {
    manifest,
    config,
    layers,
    digests: [manifest.digest, config.digest, ...layers.map((l) => l.digest)],
  };
}

/** An OCI index (or, with `docker`, a Docker manifest list) over the given manifests. */
export async function writeIndex(
  store: ContentStore,
  children: { manifest: Descriptor; platform: Platform }[],
  options: { docker?: boolean } = {},
): Promise<Descriptor> {
  const mediaType = options.docker ? MEDIA_TYPES.dockerManifestList : MEDIA_TYPES.ociIndex;
  const json = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: children.map((c) => ({ ...c.manifest, platform: c.platform })),
    }),
  );
  const digest = sha256(json);
  await store.putBytes(digest, json);
  return { mediaType, digest, size: json.length };
}

export function hexOf(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
