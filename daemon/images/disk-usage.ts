// GET /system/df, the image part: each image with the bytes it shares with others, and the bytes all images occupy
// together (each blob counted once). Dockhand has no containers, volumes or build cache: those lists are empty.
import type { SystemDataUsage } from '../../api-spec/types.ts';
import type { Store } from '../store/index.ts';
import type { LocalImages } from './local-images.ts';
import { type PlatformManifest, platformManifestOf } from './platform-manifest.ts';

export async function diskUsage(store: Store, local: LocalImages): Promise<SystemDataUsage> {
  const summaries = await local.list({ all: false, filters: {} });
  const contents = new Map<string, PlatformManifest>();
  const users = new Map<string, number>();
  const sizes = new Map<string, number>();
  for (const image of store.images.list()) {
    const record = image.refs.find((r) => r.meta?.manifestDigest === image.manifestDigest) ?? image.refs[0];
    if (!record) continue;
    const content = await platformManifestOf(store, record);
    contents.set(image.id, content);
    for (const blob of [content.config, ...content.layers]) {
      users.set(blob.digest, (users.get(blob.digest) ?? 0) + 1);
      sizes.set(blob.digest, blob.size);
    }
  }
  const images = summaries.map((summary) => {
    const layers = contents.get(summary.Id)?.layers ?? [];
    const shared = layers.filter((l) => (users.get(l.digest) ?? 0) > 1).reduce((sum, l) => sum + l.size, 0);
    return { ...summary, SharedSize: shared, Containers: 0 };
  });
  const layersSize = [...sizes.values()].reduce((sum, size) => sum + size, 0);
  return { LayersSize: layersSize, Images: images, Containers: [], Volumes: [], BuildCache: [] };
}
