// The data root as pulls and pushes use it: content in, references recorded, blobs read back out.

import type { Readable } from 'node:stream';
import type { OCIDescriptor, OCIPlatform } from '../../api-spec/types.ts';
import { parseManifest, parseReference, platformMatches } from '../../protocol/index.ts';
import type { ImageMeta, RefRecord, Store } from '../store/index.ts';
import type { BlobFetchResult, PullStore } from './pull/pull-store.ts';
import type { ResolvedImage } from './pull/resolve.ts';
import type { PushPlan, PushStore } from './push/push.ts';

/** The fields of an image config the daemon records. */
interface ImageConfigFields {
  created?: string;
  architecture?: string;
  os?: string;
  variant?: string;
}

export class DistributionStore implements PullStore, PushStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  has(digest: string): Promise<boolean> {
    return this.#store.content.has(digest);
  }

  async putBytes(digest: string, bytes: Buffer): Promise<void> {
    await this.#store.content.putBytes(digest, bytes);
  }

  fetchBlob(...args: Parameters<PullStore['fetchBlob']>): Promise<BlobFetchResult> {
    return this.#store.content.fetchBlob(...args);
  }

  lease(digests: string[]): { release(): void } {
    const lease = this.#store.leases.create();
    for (const d of digests) lease.add(d);
    return lease;
  }

  openRead(digest: string): Promise<Readable> {
    return this.#store.content.openRead(digest);
  }

  /** Records the tag (or digest) reference and `name@digest`, as dockerd records RepoTags and RepoDigests. */
  async tag(reference: string, image: ResolvedImage): Promise<void> {
    const ref = parseReference(reference);
    const name = `${ref.domain}/${ref.path}`;
    const refs = [...new Set([reference, `${name}@${image.top.descriptor.digest}`])];
    await this.#store.images.setTag(refs, image.top.descriptor, await this.#meta(image));
  }

  async #meta(image: ResolvedImage): Promise<ImageMeta> {
    const { config, layers } = image.manifest;
    const json = await this.#store.content.readJson<ImageConfigFields>(config.digest);
    return {
      imageId: config.digest,
      manifestDigest: (image.child ?? image.top).descriptor.digest,
      platform: {
        os: json.os ?? '',
        architecture: json.architecture ?? '',
        ...(json.variant ? { variant: json.variant } : {}),
      },
      size: config.size + layers.reduce((sum, l) => sum + l.size, 0),
      ...(json.created ? { created: json.created } : {}),
    };
  }

  /**
   * The stored top-level digest for a reference, when the platform manifest and all its blobs are present. For an
   * index, only when the stored platform is the one asked for: another platform of the same index is not up to date.
   */
  async completeDigestOf(reference: string, platform: OCIPlatform): Promise<string | undefined> {
    const record = this.#store.images.getByRef(reference);
    if (!record?.meta) return undefined;
    const fromIndex = record.meta.manifestDigest !== record.target.digest;
    if (fromIndex && !platformMatches(record.meta.platform, platform)) return undefined;
    const manifest = await this.#manifest(record.meta.manifestDigest);
    if (!manifest) return undefined;
    for (const blob of [manifest.config, ...manifest.layers]) {
      if (!(await this.has(blob.digest))) return undefined;
    }
    return record.target.digest;
  }

  async #manifest(digest: string) {
    if (!(await this.has(digest))) return undefined;
    const bytes = await this.#store.content.readBytes(digest);
    const parsed = parseManifest(bytes, '', `stored manifest ${digest}`);
    return parsed.kind === 'manifest' ? { ...parsed, bytes } : undefined;
  }

  async pushPlans(repository: string, tag: string | undefined): Promise<PushPlan[]> {
    const records = this.#store.images
      .refs()
      .filter(
        (r) =>
          r.kind === 'tag' &&
          r.name === repository &&
          (tag === undefined || r.ref === `${repository}:${tag}`),
      );
    const plans: PushPlan[] = [];
    for (const record of records) {
      const plan = await this.#plan(record);
      if (plan) plans.push(plan);
    }
    return plans;
  }

  async recordPushed(repository: string, plan: PushPlan): Promise<void> {
    const record = this.#store.images.getByRef(`${repository}:${plan.tag}`);
    if (!record?.meta) return;
    const { descriptor } = plan.manifest;
    await this.#store.images.setTag([`${repository}@${descriptor.digest}`], descriptor, record.meta);
  }

  /** Pushes the platform manifest that was pulled: an index whose other platforms are absent cannot be pushed. */
  async #plan(record: RefRecord): Promise<PushPlan | undefined> {
    if (!record.meta) return undefined;
    const manifest = await this.#manifest(record.meta.manifestDigest);
    if (!manifest) return undefined;
    const descriptor: OCIDescriptor = {
      mediaType: manifest.mediaType,
      digest: record.meta.manifestDigest,
      size: manifest.bytes.length,
    };
    const host = parseReference(record.ref).domain;
    const mountSources = this.#store.images
      .list()
      .filter((image) => image.id === record.meta?.imageId)
      .flatMap((image) => image.refs.map((r) => parseReference(r.ref)))
      .filter((r) => r.domain === host && `${r.domain}/${r.path}` !== record.name)
      .map((r) => r.path);
    return {
      tag: record.ref.slice(record.name.length + 1),
      manifest: { descriptor, bytes: manifest.bytes },
      config: manifest.config,
      layers: manifest.layers,
      mountSources: [...new Set(mountSources)],
    };
  }
}
