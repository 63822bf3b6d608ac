// The images in the data root as the Engine API shows them: list, inspect, tag, remove, prune.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type {
  ImageDeleteResponseItem,
  ImageFilters,
  ImageInspect,
  ImagePruneResponse,
  ImageSummary,
} from '../../api-spec/types.ts';
import { parseReference } from '../../protocol/index.ts';
import { ConflictError, InvalidParameterError, NotFoundError } from '../errors.ts';
import { compilePathPattern, InvalidPatternError, type PathPattern } from '../filters/path-match.ts';
import { AmbiguousImageIdError, type ImageRecord, type RefRecord, type Store } from '../store/index.ts';
import type { ImageEvents } from './events.ts';
import { familiarOf, imageReference } from './references.ts';

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
/** The longest stretch a filtered list runs without letting other requests in. */
const FILTER_SLICE_MS = 4;

/** One listed image: its summary as GET /images/json shows it, and what the filters look at. */
interface Listed {
  summary: ImageSummary;
  /** The config's created time in ms (0 when absent or invalid), for before/since. */
  created: number;
  /** RepoTags without their tags, for reference patterns that name only the repository. */
  repositories: string[];
  /** RepoDigests without their digests, likewise. */
  digestRepositories: string[];
}

interface Listing {
  images: Listed[];
  summaries: ImageSummary[];
}

/**
 * A filter compiled once per request, tried on each listed image: the summary to show (a reference filter keeps only
 * the matching tags and digests, as moby does), or undefined to leave the image out.
 */
type ImageFilter = (image: Listed, shown: ImageSummary) => ImageSummary | undefined;

export class LocalImages {
  readonly #store: Store;
  readonly #events: ImageEvents;
  // Promises, so the 50 requests that arrive together on a cold daemon read each config once, not once each.
  readonly #configs = new Map<string, Promise<ImageConfigJson | undefined>>();
  #listing: { generation: number; images: Promise<Listing> } | undefined;

  constructor(store: Store, events: ImageEvents) {
    this.#store = store;
    this.#events = events;
  }

  count(): number {
    return this.#store.images.list().length;
  }

  /**
   * Without filters, the same array is returned until the images change, so the server can reuse its serialization
   * (see daemon/server/images.ts): callers must not mutate it.
   */
  async list(options: { all: boolean; filters: ImageFilters }): Promise<ImageSummary[]> {
    const filters = this.#compileFilters(options.filters);
    const { images, summaries: all } = await this.#listed();
    if (filters.length === 0) return all;
    const summaries: ImageSummary[] = [];
    let sliceStart = performance.now();
    for (const image of images) {
      // However many images and patterns, other requests (GET /_ping too) get their turn between slices.
      if (performance.now() - sliceStart > FILTER_SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
      let shown: ImageSummary | undefined = image.summary;
      for (const filter of filters) shown = shown && filter(image, shown);
      if (shown) summaries.push(shown);
    }
    return summaries;
  }

  /**
   * The summaries of every image, built once per generation of the image index (a tag, pull or removal starts a new
   * one) and shared by the requests until then: the summaries are never mutated.
   */
  #listed(): Promise<Listing> {
    const generation = this.#store.images.generation;
    if (this.#listing?.generation !== generation) {
      let complete = true;
      const images = Promise.all(
        this.#store.images.list().map(async (image) => {
          const config = await this.#config(image);
          if (!config) complete = false;
          return listedImage(image, config ?? {});
        }),
      ).then((listed) => ({ images: listed, summaries: listed.map((image) => image.summary) }));
      const listing = { generation, images };
      this.#listing = listing;
      // A list missing a config is answered but not kept: the next request reads that config again.
      const forget = () => {
        if (this.#listing === listing) this.#listing = undefined;
      };
      images.then(() => complete || forget(), forget);
    }
    return this.#listing.images;
  }

  /** Checks every filter before listing, as moby does: an unknown key or a missing before/since image fails. */
  #compileFilters(filters: ImageFilters): ImageFilter[] {
    const compiled: ImageFilter[] = [];
    for (const [key, values] of Object.entries(filters)) {
      if (values.length === 0) continue;
      if (key === 'dangling') {
        const wanted = values.map((v) => v === 'true' || v === '1');
        compiled.push(keepIf((image) => wanted.includes(image.summary.RepoTags.length === 0)));
      } else if (key === 'reference') {
        const patterns = values.map(referencePattern);
        // moby's FamiliarMatch: the familiar reference, or else its repository alone.
        const matches = (ref: string, repository: string) =>
          patterns.some((pattern) => pattern.test(ref) || pattern.test(repository));
        compiled.push((image, shown) => {
          const tags = image.summary.RepoTags.filter((tag, i) =>
            matches(tag, image.repositories[i] as string),
          );
          if (tags.length === 0) return undefined;
          const digests = image.summary.RepoDigests.filter((digest, i) =>
            matches(digest, image.digestRepositories[i] as string),
          );
          return { ...shown, RepoTags: tags, RepoDigests: digests };
        });
      } else if (key === 'label') {
        compiled.push(keepIf((image) => values.every((l) => labelMatches(l, image.summary.Labels))));
      } else if (key === 'before' || key === 'since') {
        const pivot = Date.parse(this.resolve(values[0] as string).image.created ?? '') || 0;
        compiled.push(
          keepIf(key === 'before' ? (image) => image.created < pivot : (image) => image.created > pivot),
        );
      } else {
        throw new InvalidParameterError(`invalid filter '${key}'`);
      }
    }
    return compiled;
  }

  async inspect(name: string): Promise<ImageInspect> {
    const { image, record } = this.recordOf(name);
    const config = (await this.#config(image)) ?? {};
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
    return this.#config(image);
  }

  #refOf(name: string): string | undefined {
    if (/^(sha256:)?[0-9a-f]{1,64}$/.test(name) && this.#store.images.getById(name)) return undefined;
    try {
      return parseReference(name).canonical;
    } catch {
      return undefined;
    }
  }

  /**
   * A config is content-addressed, so it never changes: read and verify it once, not on every GET /images/json.
   * Undefined when it cannot be read now; it is read again next time.
   */
  #config(image: ImageRecord): Promise<ImageConfigJson | undefined> {
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

function keepIf(predicate: (image: Listed) => boolean): ImageFilter {
  return (image, shown) => (predicate(image) ? shown : undefined);
}

function listedImage(image: ImageRecord, config: ImageConfigJson): Listed {
  const repoTags = image.repoTags.map(familiarOf);
  const repoDigests = image.repoDigests.map(familiarOf);
  return {
    summary: {
      Id: image.id,
      ParentId: '',
      RepoTags: repoTags,
      RepoDigests: repoDigests,
      Created: image.created ? Math.floor(Date.parse(image.created) / 1000) : 0,
      Size: image.size,
      SharedSize: -1,
      Labels: labelsOf(config),
      Containers: -1,
    },
    created: Date.parse(image.created ?? '') || 0,
    repositories: repoTags.map((tag) => tag.slice(0, tag.lastIndexOf(':'))),
    digestRepositories: repoDigests.map((digest) => digest.slice(0, digest.indexOf('@'))),
  };
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

function labelsOf(config: ImageConfigJson): Record<string, string> {
  const labels = config.config?.Labels;
  return typeof labels === 'object' && labels !== null ? (labels as Record<string, string>) : {};
}

function labelMatches(filter: string, labels: Record<string, string>): boolean {
  const eq = filter.indexOf('=');
  if (eq === -1) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** docker's reference filter: a glob over the familiar repository (and tag, when the pattern has one). */
function referencePattern(pattern: string): PathPattern {
  try {
    return compilePathPattern(pattern);
  } catch (err) {
    if (err instanceof InvalidPatternError)
      throw new InvalidParameterError(`invalid reference filter: ${err.message}`);
    throw err;
  }
}
