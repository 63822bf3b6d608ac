// Test images without Docker: builds OCI image layouts (image-spec `oci-layout` + `index.json` + `blobs/sha256`)
// with incompressible deterministic layers, one image per platform, an OCI index when there are several platforms.
// Layouts are cached by spec under a temp dir, so a second build of the same spec costs one stat.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLayer } from './layer-writer.ts';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface ImageSpec {
  /** Size in bytes of the single file in each layer. */
  layers: readonly number[];
  /** Seed of the layer bytes. Default 1. Each platform and layer derives its own stream from it. */
  seed?: number;
  /** 'os/arch[/variant]'. Default ['linux/amd64']. More than one gives an OCI index. */
  platforms?: readonly string[];
  /** gzip level of layers: 0 (stored, fast, the default) or 1..9. */
  gzipLevel?: number;
  /** 'random' (incompressible, default) or 'zero'. */
  fill?: 'random' | 'zero';
  /** Config `created`. Default 2024-01-01T00:00:00Z. */
  created?: string;
  labels?: Record<string, string>;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface LayerInfo {
  digest: string;
  /** Compressed size. */
  size: number;
  diffId: string;
  uncompressedSize: number;
  fileName: string;
  fileSize: number;
}

export interface PlatformImage {
  platform: Platform;
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  configSize: number;
  layers: LayerInfo[];
}

export interface BuiltImage {
  layoutDir: string;
  /** The ref name in index.json (`org.opencontainers.image.ref.name`). */
  tag: string;
  /** Digest of what the tag points to: the image manifest, or the index for several platforms. */
  digest: string;
  mediaType: string;
  size: number;
  images: PlatformImage[];
}

export interface BuildOptions {
  /** Ref name in index.json. Default 'latest'. */
  tag?: string;
  /** Cache root. Default $DOCKHAND_RIG_CACHE or <tmp>/dockhand-rig-cache. */
  cacheDir?: string;
}

// Bump when the bytes a spec produces change, so stale cached layouts are not reused.
const GENERATOR_VERSION = 1;
const RESULT_FILE = 'rig-build.json';

export function defaultCacheDir(): string {
  return process.env['DOCKHAND_RIG_CACHE'] ?? join(tmpdir(), 'dockhand-rig-cache');
}

export function parsePlatform(value: string): Platform {
  const [os, architecture, variant, ...rest] = value.split('/');
  if (!os || !architecture || rest.length > 0)
    throw new Error(`platform: expected os/arch[/variant], got "${value}"`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Builds (or finds in the cache) the OCI layout for a spec. */
export async function buildImage(spec: ImageSpec, options: BuildOptions = {}): Promise<BuiltImage> {
  const tag = options.tag ?? 'latest';
  const normalized = {
    layers: [...spec.layers],
    seed: spec.seed ?? 1,
    platforms: [...(spec.platforms ?? ['linux/amd64'])],
    gzipLevel: spec.gzipLevel ?? 0,
    fill: spec.fill ?? 'random',
    created: spec.created ?? '2024-01-01T00:00:00Z',
    labels: spec.labels ?? {},
  };
  if (normalized.platforms.length === 0) throw new Error('buildImage: platforms must not be empty');
  const root = options.cacheDir ?? defaultCacheDir();
  const key = sha256(JSON.stringify({ v: GENERATOR_VERSION, tag, ...normalized })).slice(0, 20);
  const layoutDir = join(root, `layout-${key}`);
  const cached = await readResult(layoutDir);
  if (cached) return cached;

  await mkdir(root, { recursive: true });
  const workDir = join(root, `.tmp-${key}-${randomBytes(6).toString('hex')}`);
  try {
    const built = await writeLayout(workDir, tag, normalized);
    await writeFile(join(workDir, RESULT_FILE), JSON.stringify({ ...built, layoutDir }));
    try {
      await rename(workDir, layoutDir);
    } catch {
      // Another process finished the same layout first; theirs is identical.
      await rm(workDir, { recursive: true, force: true });
    }
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  const result = await readResult(layoutDir);
  if (!result) throw new Error(`buildImage: ${layoutDir} has no ${RESULT_FILE}`);
  return result;
}

async function readResult(layoutDir: string): Promise<BuiltImage | undefined> {
  try {
    return JSON.parse(await readFile(join(layoutDir, RESULT_FILE), 'utf8')) as BuiltImage;
  } catch {
    return undefined;
  }
}

/** Removes every cached layout. */
export async function clearFixtureCache(cacheDir = defaultCacheDir()): Promise<void> {
  await rm(cacheDir, { recursive: true, force: true });
}

type Normalized = Required<Omit<ImageSpec, 'layers' | 'platforms'>> & {
  layers: number[];
  platforms: string[];
};

async function writeLayout(
  dir: string,
  tag: string,
  spec: Normalized,
): Promise<Omit<BuiltImage, 'layoutDir'>> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const putJson = async (value: unknown) => {
    const bytes = Buffer.from(JSON.stringify(value));
    const hex = sha256(bytes);
    await writeFile(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };

  const images: PlatformImage[] = [];
  for (const platformText of spec.platforms) {
    const platform = parsePlatform(platformText);
    const layers: LayerInfo[] = [];
    for (const [i, fileSize] of spec.layers.entries()) {
      const fileName = `rig-layer-${i}.bin`;
      const written = await writeLayer(blobs, {
        fileSize,
        fileName,
        seed: `${spec.seed}/${platformText}/${i}`,
        fill: spec.fill,
        gzipLevel: spec.gzipLevel,
      });
      layers.push({ ...written, fileName, fileSize });
    }
    const config = await putJson({
      created: spec.created,
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Cmd: ['/bin/sh'],
        Labels: { 'org.dockhand.rig.platform': platformText, ...spec.labels },
      },
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
      history: layers.map((layer) => ({
        created: spec.created,
        created_by: `dockhand rig: ${layer.fileName}, ${layer.fileSize} bytes, seed ${spec.seed}`,
      })),
    });
    const manifest = await putJson({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, ...config },
      layers: layers.map((layer) => ({
        mediaType: MEDIA_TYPES.ociLayerGzip,
        digest: layer.digest,
        size: layer.size,
      })),
    });
    images.push({
      platform,
      manifestDigest: manifest.digest,
      manifestSize: manifest.size,
      configDigest: config.digest,
      configSize: config.size,
      layers,
    });
  }

  let top: { digest: string; size: number; mediaType: string };
  if (images.length === 1) {
    const only = images[0]!;
    top = { mediaType: MEDIA_TYPES.ociManifest, digest: only.manifestDigest, size: only.manifestSize };
  } else {
    const index = await putJson({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: images.map((image) => ({
        mediaType: MEDIA_TYPES.ociManifest,
        digest: image.manifestDigest,
        size: image.manifestSize,
        platform: image.platform,
      })),
    });
    top = { mediaType: MEDIA_TYPES.ociIndex, ...index };
  }
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [{ ...top, annotations: { [REF_NAME_ANNOTATION]: tag } }],
    }),
  );
  return { tag, digest: top.digest, mediaType: top.mediaType, size: top.size, images };
}
