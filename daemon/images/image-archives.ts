// docker save and docker load over the data root: names resolved to their manifests for save, and a loaded archive's
// images tagged only once every blob they need is committed (see daemon/archive/).
import { Readable } from 'node:stream';
import { parseReference, type Reference } from '../../protocol/index.ts';
import { stageArchive } from '../archive/load.ts';
import { type ArchiveImage, writeImageArchive } from '../archive/save.ts';
import type { Store } from '../store/index.ts';
import type { ImageEvents } from './events.ts';
import type { StreamingJob } from './image-service.ts';
import type { LocalImages } from './local-images.ts';
import { platformManifestOf } from './platform-manifest.ts';
import { familiarOf } from './references.ts';

export class ImageArchives {
  readonly #store: Store;
  readonly #local: LocalImages;
  readonly #events: ImageEvents;

  constructor(store: Store, local: LocalImages, events: ImageEvents) {
    this.#store = store;
    this.#local = local;
    this.#events = events;
  }

  /**
   * The archive of the named images, as a stream. Every name is resolved first (a missing one is a 404 before any
   * byte), and a lease keeps the blobs until the stream ends. A tag or digest reference saves that reference's
   * manifest, a repository name all its tags; an image ID saves the image's most recently tagged manifest with all
   * its tags.
   */
  async save(names: string[]): Promise<Readable> {
    const images: ArchiveImage[] = [];
    const byManifest = new Map<string, ArchiveImage>();
    for (const name of names.flatMap((n) => this.#repositoryTags(n) ?? [n])) {
      const { image, record, named } = this.#local.recordOf(name);
      const content = await platformManifestOf(this.#store, record);
      let entry = byManifest.get(content.manifest.digest);
      if (!entry) {
        entry = { ...content, tags: [] };
        byManifest.set(content.manifest.digest, entry);
        images.push(entry);
      }
      // Dockhand keeps no unnamed images, so an image saved by ID takes its tags along (docker would write none, and
      // load it back untagged).
      const tags = named ? (named.kind === 'tag' ? [named.ref] : []) : image.repoTags;
      for (const tag of tags) if (!entry.tags.includes(tag)) entry.tags.push(tag);
      this.#events.publish('save', image.id);
    }
    const lease = this.#store.leases.create();
    for (const image of images) {
      for (const blob of [image.manifest, image.config, ...image.layers]) lease.add(blob.digest);
    }
    const stream = Readable.from(writeImageArchive(this.#store.content, images), { objectMode: false });
    stream.once('close', () => lease.release());
    return stream;
  }

  /** A repository name without tag or digest stands for all its tags, as in docker save; undefined otherwise. */
  #repositoryTags(name: string): string[] | undefined {
    let ref: Reference;
    try {
      ref = parseReference(name);
    } catch {
      return undefined;
    }
    if (ref.tag !== undefined || ref.digest !== undefined) return undefined;
    const tags = this.#store.images
      .refs()
      .filter((r) => r.kind === 'tag' && r.name === ref.name)
      .map((r) => r.ref);
    return tags.length > 0 ? tags.sort() : undefined;
  }

  /**
   * Reads the archive into the store, then tags its images. A refused archive (InvalidArchiveError, 400) leaves the
   * store as it was: nothing is tagged before every image checked out, and what the load committed is collected.
   */
  load(body: Readable): StreamingJob {
    return {
      run: async (emit, signal) => {
        const lease = this.#store.leases.create();
        let tagged = false;
        try {
          const images = await stageArchive(this.#store.content, body, lease, signal);
          for (const image of images) {
            await this.#store.images.setTag(image.refs, image.target);
            tagged = true;
            this.#events.publish('load', image.imageId);
            for (const ref of image.refs) {
              this.#events.publish('tag', image.imageId, { name: familiarOf(ref) });
              emit({ stream: `Loaded image: ${familiarOf(ref)}\n` });
            }
          }
        } finally {
          lease.release();
          // The rest of the request (tar padding, or an archive refused half-way) is read and dropped.
          body.resume();
          if (!tagged) await this.#store.gc();
        }
      },
    };
  }
}
