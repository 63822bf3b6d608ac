// `docker save` as docker 25+ writes it: an OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) that
// also carries docker's own `manifest.json` and `repositories`, so both OCI tools and older docker versions read it.
// Blobs stream from the store into the tar one after the other; only the small JSON files are built in memory.
import type { Readable } from 'node:stream';
import { parseReference } from '../../protocol/index.ts';
import { type Descriptor, MEDIA_TYPES } from '../store/index.ts';
import { tarEnd, tarFile } from './tar-writer.ts';

export interface ArchiveImage {
  /** The platform manifest saved (its bytes are a blob in the archive, and index.json names it). */
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** Full normalized tag references (`docker.io/library/alpine:3.20`); empty when saved by image ID. */
  tags: string[];
}

export interface BlobSource {
  openRead(digest: string): Promise<Readable>;
}

/** Names docker gives image references in index.json (containerd's image name, and the OCI tag). */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';
export const OCI_REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export function blobPath(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

export async function* writeImageArchive(
  blobs: BlobSource,
  images: ArchiveImage[],
): AsyncGenerator<Uint8Array> {
  const written = new Set<string>();
  for (const image of images) {
    for (const blob of [...image.layers, image.config, image.manifest]) {
      if (written.has(blob.digest)) continue;
      written.add(blob.digest);
      yield* tarFile(blobPath(blob.digest), blob.size, await blobs.openRead(blob.digest));
    }
  }
  yield* jsonFile('index.json', indexJson(images));
  yield* jsonFile('manifest.json', manifestJson(images));
  yield* jsonFile('oci-layout', { imageLayoutVersion: '1.0.0' });
  yield* jsonFile('repositories', repositoriesJson(images));
  yield tarEnd();
}

function indexJson(images: ArchiveImage[]): object {
  const manifests = images.flatMap((image) => {
    const { mediaType, digest, size } = image.manifest;
    if (image.tags.length === 0) return [{ mediaType, digest, size }];
    return image.tags.map((tag) => ({
      mediaType,
      digest,
      size,
      annotations: {
        [CONTAINERD_NAME_ANNOTATION]: tag,
        [OCI_REF_NAME_ANNOTATION]: parseReference(tag).tag ?? 'latest',
      },
    }));
  });
  return { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests };
}

function manifestJson(images: ArchiveImage[]): object {
  return images.map((image) => ({
    Config: blobPath(image.config.digest),
    RepoTags: image.tags.length > 0 ? image.tags.map((tag) => parseReference(tag).familiar) : null,
    Layers: image.layers.map((layer) => blobPath(layer.digest)),
  }));
}

/** The legacy `repositories` file: repository → tag → the top layer's id. */
function repositoriesJson(images: ArchiveImage[]): object {
  const out: Record<string, Record<string, string>> = {};
  for (const image of images) {
    const top = image.layers.at(-1);
    if (!top) continue;
    for (const tag of image.tags) {
      const ref = parseReference(tag);
      const name = ref.familiar.slice(0, ref.familiar.length - (ref.tag ? ref.tag.length + 1 : 0));
      out[name] = { ...out[name], [ref.tag ?? 'latest']: top.digest.slice(top.digest.indexOf(':') + 1) };
    }
  }
  return out;
}

async function* jsonFile(name: string, value: object): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(JSON.stringify(value));
  yield* tarFile(name, bytes.length, [bytes]);
}
