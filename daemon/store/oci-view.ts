// skopeo 1.9 (containers/image) reads only OCI-typed descriptors from an OCI layout's index.json: a Docker-typed
// entry is "no descriptor found for reference". So index.json lists an OCI view of a Docker-typed image: for a
// manifest list, an OCI index with the same children; for a schema2 manifest, an OCI manifest with the same config
// and layers. The view is only re-typed JSON: every blob it references is the pulled one.
import type { ContentStore } from './content-store.ts';
import { digestOf } from './digest.ts';
import { CorruptContentError } from './errors.ts';
import { type Descriptor, MEDIA_TYPES, parseContent } from './oci.ts';

const OCI_TYPE_OF: Record<string, string> = {
  [MEDIA_TYPES.dockerConfig]: MEDIA_TYPES.ociConfig,
  [MEDIA_TYPES.dockerLayerGzip]: MEDIA_TYPES.ociLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': 'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip':
    'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
};

/** The OCI view of a Docker-typed target, stored in the content store; undefined for a target that needs none. */
export async function ensureOciView(
  content: ContentStore,
  target: Descriptor,
): Promise<Descriptor | undefined> {
  let view: object;
  let mediaType: string;
  if (target.mediaType === MEDIA_TYPES.dockerManifestList) {
    const parsed = parseContent(await content.readJson(target.digest), target.mediaType, target.digest);
    if (parsed.kind !== 'index') throw new CorruptContentError(target.digest, 'not a manifest list');
    mediaType = MEDIA_TYPES.ociIndex;
    view = { schemaVersion: 2, mediaType, manifests: parsed.manifests };
  } else if (target.mediaType === MEDIA_TYPES.dockerManifest) {
    const parsed = parseContent(await content.readJson(target.digest), target.mediaType, target.digest);
    if (parsed.kind !== 'manifest') throw new CorruptContentError(target.digest, 'not an image manifest');
    mediaType = MEDIA_TYPES.ociManifest;
    view = { schemaVersion: 2, mediaType, config: retype(parsed.config), layers: parsed.layers.map(retype) };
  } else {
    return undefined;
  }
  const bytes = Buffer.from(JSON.stringify(view));
  const digest = digestOf(bytes);
  await content.putBytes(digest, bytes);
  return { mediaType, digest, size: bytes.length };
}

function retype(descriptor: Descriptor): Descriptor {
  return { ...descriptor, mediaType: OCI_TYPE_OF[descriptor.mediaType] ?? descriptor.mediaType };
}
