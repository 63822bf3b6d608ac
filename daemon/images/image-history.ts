// GET /images/{name}/history: the config's history, newest first, as moby shows it. Each step that made a layer gets
// that layer's size (the stored, compressed size: Dockhand keeps layers as pulled and never unpacks them).
import type { HistoryResponseItem } from '../../api-spec/types.ts';
import type { Store } from '../store/index.ts';
import type { LocalImages } from './local-images.ts';
import { platformManifestOf } from './platform-manifest.ts';
import { familiarOf } from './references.ts';

export async function imageHistory(
  store: Store,
  local: LocalImages,
  name: string,
): Promise<HistoryResponseItem[]> {
  const { image, record } = local.recordOf(name);
  const config = (await local.configOf(image)) ?? {};
  const { layers } = await platformManifestOf(store, record);
  let layer = 0;
  const items = (config.history ?? []).map((step): HistoryResponseItem => {
    const size = step.empty_layer ? 0 : (layers[layer++]?.size ?? 0);
    return {
      Id: '<missing>',
      Created: Math.floor((Date.parse(step.created ?? '') || 0) / 1000),
      CreatedBy: step.created_by ?? '',
      Tags: null,
      Size: size,
      Comment: step.comment ?? '',
    };
  });
  items.reverse();
  const newest = items[0];
  if (newest) {
    newest.Id = image.id;
    newest.Tags = image.repoTags.length > 0 ? image.repoTags.map(familiarOf) : null;
  }
  return items;
}
