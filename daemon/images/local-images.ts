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
import { AmbiguousImageIdError, type ImageRecord, type Store } from '../store/index.ts';
import type { ImageEvents } from './events.ts';
import { parseImageReference } from './pull-service.ts';

/** The fields of an image config (untrusted JSON from the store) that the API shows. */
export interface ImageConfigJson {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: Record<string, unknown>;
  rootfs?: { type?: string; diff_ids?: string[] };
}

const MAX_CACHED_CONFIGS = 10_000;

/** The familiar form docker prints: alpine:latest, 127.0.0.1:5000/small:1. */
export function familiarOf(ref: string): string {
  return parseReference(parseReference(ref).canonical).familiar;
}

export class LocalImages {
  readonly #store: Store;
  readonly #events: ImageEvents;
  readonly #configs = new Map<string, ImageConfigJson>();

  constructor(store: Store, events: ImageEvents) {
    this.#store = store;
    this.#events = events;
  }

  count(): number {
    return this.#store.images.list().length;
  }

  async list(options: { all: boolean; filters: ImageFilters }): Promise<ImageSummary[]> {
    const images = this.#store.images.list();
    const summaries: ImageSummary[] = [];
    for (const image of images) {
      const config = await this.#config(image);
      const summary: ImageSummary = {
        Id: image.id,
        ParentId: '',
        RepoTags: image.repoTags.map(familiarOf),
        RepoDigests: image.repoDigests.map(familiarOf),
        Created: image.created ? Math.floor(Date.parse(image.created) / 1000) : 0,
        Size: image.size,
        SharedSize: -1,
        Labels: labelsOf(config),
        Containers: -1,
      };
      if (this.#matches(summary, image, options.filters)) summaries.push(summary);
    }
    return summaries;
  }

  #matches(summary: ImageSummary, image: ImageRecord, filters: ImageFilters): boolean {
    for (const [key, values] of Object.entries(filters)) {
      if (values.length === 0) continue;
      if (key === 'dangling') {
        const dangling = summary.RepoTags.length === 0;
        if (!values.some((v) => (v === 'true' || v === '1') === dangling)) return false;
      } else if (key === 'reference') {
        if (!values.some((pattern) => summary.RepoTags.some((tag) => referenceMatches(pattern, tag))))
          return false;
      } else if (key === 'label') {
        if (!values.every((l) => labelMatches(l, summary.Labels))) return false;
      } else if (key === 'before' || key === 'since') {
        const pivot = this.#resolve(values[0] as string);
        const created = Date.parse(image.created ?? '') || 0;
        const pivotCreated = Date.parse(pivot.created ?? '') || 0;
        if (key === 'before' ? created >= pivotCreated : created <= pivotCreated) return false;
      } else {
        throw new InvalidParameterError(`invalid filter '${key}'`);
      }
    }
    return true;
  }

  async inspect(name: string): Promise<ImageInspect> {
    const image = this.#resolve(name);
    const config = await this.#config(image);
    const latest = image.refs.find((r) => r.meta?.manifestDigest === image.manifestDigest) ?? image.refs[0];
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
      ...(latest ? { Descriptor: latest.target } : {}),
    };
  }

  async tag(name: string, repo: string, tag: string | undefined): Promise<void> {
    const source = this.#resolve(name);
    const target = parseImageReference(tag ? `${repo}:${tag}` : repo);
    if (target.digest) throw new InvalidParameterError('refusing to create a tag with a digest reference');
    const record =
      source.refs.find((r) => r.meta?.manifestDigest === source.manifestDigest) ?? source.refs[0];
    if (!record) throw new NotFoundError(`No such image: ${name}`);
    await this.#store.images.setTag(target.canonical, record.target, record.meta);
    this.#events.publish('tag', familiarOf(target.canonical));
  }

  async remove(
    name: string,
    options: { force: boolean; noprune: boolean },
  ): Promise<ImageDeleteResponseItem[]> {
    const image = this.#resolve(name);
    const byRef = this.#refOf(name);
    let untag: string[];
    if (byRef && image.repoTags.length > 1) {
      untag = [byRef];
    } else {
      if (!byRef && image.repoTags.length > 1 && !options.force) {
        throw new ConflictError(
          `conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
        );
      }
      untag = image.refs.map((r) => r.ref);
    }
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
      for (const r of removed) deleted.push({ Untagged: familiarOf(r.ref) });
      deleted.push({ Deleted: image.id });
      reclaimed += gc.bytes;
    }
    if (victims.length > 0) this.#events.publish('prune', '', { reclaimed: String(reclaimed) });
    return { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /** A name is a reference (normalized as docker does) or an image ID or ID prefix. */
  #resolve(name: string): ImageRecord {
    const ref = this.#refOf(name);
    const images = this.#store.images;
    let image: ImageRecord | undefined;
    if (ref) {
      const record = images.getByRef(ref);
      image = record?.meta ? images.list().find((i) => i.id === record.meta?.imageId) : undefined;
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
    return image;
  }

  #refOf(name: string): string | undefined {
    if (/^(sha256:)?[0-9a-f]{1,64}$/.test(name) && this.#store.images.getById(name)) return undefined;
    try {
      return parseReference(name).canonical;
    } catch {
      return undefined;
    }
  }

  /** A config is content-addressed, so it never changes: read and verify it once, not on every GET /images/json. */
  async #config(image: ImageRecord): Promise<ImageConfigJson> {
    const cached = this.#configs.get(image.id);
    if (cached) return cached;
    let config: ImageConfigJson;
    try {
      config = await this.#store.content.readJson<ImageConfigJson>(image.id);
    } catch {
      return {};
    }
    if (this.#configs.size >= MAX_CACHED_CONFIGS) this.#configs.clear();
    this.#configs.set(image.id, config);
    return config;
  }
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
function referenceMatches(pattern: string, repoTag: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  const repo = repoTag.slice(0, repoTag.lastIndexOf(':'));
  return regex.test(repoTag) || regex.test(repo);
}
