// The image manifest a reference stands for: the target itself, or the child of an index that was pulled for this
// platform. Save, history and disk usage read the image's blobs through it.
import { CorruptContentError, type Descriptor, type RefRecord, type Store } from '../store/index.ts';
import { parseContent } from '../store/oci.ts';

export interface PlatformManifest {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

export async function platformManifestOf(store: Store, record: RefRecord): Promise<PlatformManifest> {
  const digest = record.meta?.manifestDigest ?? record.target.digest;
  let manifest: Descriptor = record.target;
  if (digest !== record.target.digest) {
    const top = parseContent(
      await store.content.readJson(record.target.digest),
      record.target.mediaType,
      digest,
    );
    const child = top.kind === 'index' ? top.manifests.find((m) => m.digest === digest) : undefined;
    if (!child) throw new CorruptContentError(record.target.digest, `does not list the manifest ${digest}`);
    manifest = child;
  }
  const parsed = parseContent(await store.content.readJson(digest), manifest.mediaType, digest);
  if (parsed.kind !== 'manifest') throw new CorruptContentError(digest, 'not an image manifest');
  const { mediaType, size } = manifest;
  return { manifest: { mediaType, digest, size }, config: parsed.config, layers: parsed.layers };
}
