// Image configs as the API shows them (list labels, inspect, history): content-addressed, so each is read and
// verified once and kept.
import type { ImageRecord, Store } from '../store/index.ts';

/** The fields of an image config (untrusted JSON from the store) that the API shows. */
export interface ImageConfigJson {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: Record<string, unknown>;
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: {
    created?: string;
    created_by?: string;
    comment?: string;
    empty_layer?: boolean;
  }[];
}

const MAX_CACHED_CONFIGS = 10_000;

export class ImageConfigs {
  readonly #store: Store;
  // Promises, so the 50 requests that arrive together on a cold daemon read each config once, not once each.
  readonly #configs = new Map<string, Promise<ImageConfigJson | undefined>>();

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * A config never changes: read and verify it once, not on every GET /images/json. Undefined when it cannot be read
   * now; it is read again next time.
   */
  of(image: ImageRecord): Promise<ImageConfigJson | undefined> {
    let config = this.#configs.get(image.id);
    if (!config) {
      if (this.#configs.size >= MAX_CACHED_CONFIGS) this.#configs.clear();
      config = this.#store.content.readJson<ImageConfigJson>(image.id).catch(() => {
        this.#configs.delete(image.id);
        return undefined;
      });
      this.#configs.set(image.id, config);
    }
    return config;
  }
}
