// The images in the data root as the Engine API shows them: list, inspect, tag, remove, prune.

import type {
  ImageDeleteResponseItem,
  ImageFilters,
  ImageInspect,
  ImagePruneResponse,
  ImageSummary,
} from '../../api-spec/types.ts';
import { parseReference } from '../../protocol/index.ts';
import { ConflictError, InvalidParameterError, NotFoundError } from '../errors.ts';
import { AmbiguousImageIdError, type ImageRecord, type RefRecord, type Store } from '../store/index.ts';
import type { ImageEvents } from './events.ts';
import { type ImageConfigJson, ImageConfigs } from './image-configs.ts';
import { ImageListing } from './image-listing.ts';
import { familiarOf, imageReference } from './references.ts';

export class LocalImages {
  readonly #store: Store;
  readonly #events: ImageEvents;
  readonly #configs: ImageConfigs;
  readonly #listing: ImageListing;

  constructor(store: Store, events: ImageEvents) {
    this.#store = store;
    this.#events = events;
    this.#configs = new ImageConfigs(store);
    this.#listing = new ImageListing({
      images: store.images,
      configs: this.#configs,
      createdOf: (name) => this.resolve(name).image.created,
    });
  }

  count(): number {
    return this.#store.images.list().length;
  }

  /** The same array for the same filters until the images change (see ImageListing). */
  list(options: { all: boolean; filters: ImageFilters }): Promise<readonly ImageSummary[]> {
    return this.#listing.list(options.filters);
  }

  async inspect(name: string): Promise<ImageInspect> {
    const { image, record } = this.recordOf(name);
    const config = (await this.#configs.of(image)) ?? {};
    return {
      Id: image.id,
      RepoTags: image.repoTags.map(familiarOf),
      RepoDigests: image.repoDigests.map(familiarOf),
      Parent: '',
      Comment: '',
      Created: image.created ?? '0001-01-01T00:00:00Z',
      DockerVersion: '',
      Author: config.author ?? '',
      Config: (config.config ?? {}) as ImageInspect['Config'],
      Architecture: image.platform.architecture,
      ...(image.platform.variant ? { Variant: image.platform.variant } : {}),
      Os: image.platform.os,
      Size: image.size,
      GraphDriver: { Name: 'dockhand-oci', Data: { DataRoot: this.#store.content.root } },
      RootFS: { Type: config.rootfs?.type ?? 'layers', Layers: config.rootfs?.diff_ids ?? [] },
      Metadata: { LastTagTime: image.lastTagTime },
      Descriptor: record.target,
    };
  }

  async tag(name: string, repo: string, tag: string | undefined): Promise<void> {
    const { record } = this.recordOf(name);
    const target = imageReference(tag ? `${repo}:${tag}` : repo);
    if (target.digest) throw new InvalidParameterError('refusing to create a tag with a digest reference');
    await this.#store.images.setTag(target.canonical, record.target, record.meta);
    this.#events.publish('tag', familiarOf(target.canonical));
  }

  async remove(
    name: string,
    options: { force: boolean; noprune: boolean },
  ): Promise<ImageDeleteResponseItem[]> {
    const { image, named } = this.resolve(name);
    const untag = named ? untagByReference(image, named) : untagById(image, options.force);
    const { removed, gc } = await this.#store.removeImage(untag);
    const items: ImageDeleteResponseItem[] = removed.map((r) => ({ Untagged: familiarOf(r.ref) }));
    for (const r of removed) this.#events.publish('untag', image.id, { name: familiarOf(r.ref) });
    if (!this.#store.images.list().some((i) => i.id === image.id)) {
      items.push({ Deleted: image.id });
      this.#events.publish('delete', image.id);
      for (const digest of gc.deleted) if (digest !== image.id) items.push({ Deleted: digest });
    }
    return items;
  }

  async prune(filters: ImageFilters): Promise<ImagePruneResponse> {
    const danglingOnly = !(filters.dangling ?? ['true']).some((v) => v === 'false' || v === '0');
    const victims = this.#store.images.list().filter((i) => !danglingOnly || i.repoTags.length === 0);
    const deleted: ImageDeleteResponseItem[] = [];
    let reclaimed = 0;
    for (const image of victims) {
      const { removed, gc } = await this.#store.removeImage(image.refs.map((r) => r.ref));
      // As moby's prune: an untag event per reference and a delete event per image, before the prune event.
      for (const r of removed) {
        deleted.push({ Untagged: familiarOf(r.ref) });
        this.#events.publish('untag', image.id, { name: familiarOf(r.ref) });
      }
      deleted.push({ Deleted: image.id });
      this.#events.publish('delete', image.id);
      reclaimed += gc.bytes;
    }
    // Blobs no image references (a download refused after it was stored) go too.
    reclaimed += (await this.#store.gc()).bytes;
    if (victims.length > 0) this.#events.publish('prune', '', { reclaimed: String(reclaimed) });
    return { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /**
   * A name is a reference (normalized as docker does) or an image ID or ID prefix. `named` is the reference's own
   * record: each tag keeps the manifest it was pulled (or tagged, or loaded) with, even when another tag of the same
   * image names another manifest.
   */
  resolve(name: string): { image: ImageRecord; named?: RefRecord } {
    const ref = this.#refOf(name);
    const images = this.#store.images;
    let image: ImageRecord | undefined;
    if (ref) {
      const record = images.getByRef(ref);
      image = record?.meta ? images.list().find((i) => i.id === record.meta?.imageId) : undefined;
      if (image && record) return { image, named: record };
    }
    if (!image) {
      try {
        image = images.getById(name);
      } catch (err) {
        if (err instanceof AmbiguousImageIdError) throw new ConflictError(err.message);
        throw err;
      }
    }
    if (!image) throw new NotFoundError(`No such image: ${name}`);
    return { image };
  }

  /** The record an operation on `name` uses: the named reference's own, else the most recently tagged one. */
  recordOf(name: string): { image: ImageRecord; record: RefRecord; named?: RefRecord } {
    const { image, named } = this.resolve(name);
    const record =
      named ?? image.refs.find((r) => r.meta?.manifestDigest === image.manifestDigest) ?? image.refs[0];
    if (!record) throw new NotFoundError(`No such image: ${name}`);
    return named ? { image, record, named } : { image, record };
  }

  /** The image's config (cached; read once per image ID). */
  configOf(image: ImageRecord): Promise<ImageConfigJson | undefined> {
    return this.#configs.of(image);
  }

  #refOf(name: string): string | undefined {
    if (/^(sha256:)?[0-9a-f]{1,64}$/.test(name) && this.#store.images.getById(name)) return undefined;
    try {
      return parseReference(name).canonical;
    } catch {
      return undefined;
    }
  }
}

/**
 * moby's rule for a delete by reference: the reference goes, and when it was the repository's last tag of the image,
 * so do the image's digest references in that repository (tag first, then digests).
 */
function untagByReference(image: ImageRecord, named: RefRecord): string[] {
  if (named.kind === 'digest') return [named.ref];
  const otherTag = image.refs.some((r) => r.kind === 'tag' && r.name === named.name && r.ref !== named.ref);
  if (otherTag) return [named.ref];
  const digests = image.refs.filter((r) => r.kind === 'digest' && r.name === named.name).map((r) => r.ref);
  return [named.ref, ...digests.sort()];
}

/** A delete by ID takes every reference, tags first; refs in several repositories need `force`, as in moby. */
function untagById(image: ImageRecord, force: boolean): string[] {
  if (!force && new Set(image.refs.map((r) => r.name)).size > 1) {
    throw new ConflictError(
      `conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
    );
  }
  return [...image.repoTags, ...image.repoDigests];
}
