// A data root opened for the daemon: its content, its images, and the operations that need both.
import { ContentStore } from './content-store.ts';
import { collectGarbage, type GcOptions, type GcResult } from './gc.ts';
import { ImageIndex, type RefRecord } from './image-index.ts';
import type { LeaseManager } from './lease.ts';

export class Store {
  readonly content: ContentStore;
  readonly images: ImageIndex;

  private constructor(content: ContentStore, images: ImageIndex) {
    this.content = content;
    this.images = images;
  }

  /** Locks the data root, creates or checks the OCI layout, and loads (repairing if needed) the image index. */
  static async open(dataRoot: string): Promise<Store> {
    const content = await ContentStore.open(dataRoot);
    try {
      return new Store(content, await ImageIndex.open(content));
    } catch (error) {
      await content.close();
      throw error;
    }
  }

  get leases(): LeaseManager {
    return this.content.leases;
  }

  gc(options?: GcOptions): Promise<GcResult> {
    return collectGarbage(this.content, this.images, options);
  }

  /** Deleting an image: untag the references, then collect what no reference or lease still needs. */
  async removeImage(
    refs: string | string[],
    options: GcOptions = {},
  ): Promise<{ removed: RefRecord[]; gc: GcResult }> {
    const removed = await this.images.removeTag(refs);
    return { removed, gc: await this.gc(options) };
  }

  close(): Promise<void> {
    return this.content.close();
  }
}
