// A pull over a typed reference, in two phases. prepare() settles everything that needs authorization (the tag's
// digest, the manifests, the platform) before the first stream byte, so a challenge or a refusal becomes an HTTP
// status; run() streams config and layers concurrently into the store (resuming partial blobs with Range), with the
// progress lines dockerd sends.

import type { OCIDescriptor } from '../../../api-spec/types.ts';
import { familiarCanonical, type Platform, type Reference } from '../../../protocol/index.ts';
import { DigestMismatchError } from '../../store/errors.ts';
import type { AuthMode } from '../auth/auth-mode.ts';
import {
  layerProgress,
  layerStatus,
  type Progress,
  retryingStatus,
  throttled,
  warningMessage,
} from '../progress.ts';
import type { RegistryAccess } from '../registry-access.ts';
import type { RepositoryClient } from '../repository-client.ts';
import type { RetryPolicy } from '../transport/retry.ts';
import { fetchBlob } from './blob-fetch.ts';
import type { PullStore } from './pull-store.ts';
import { headDigest, type ResolvedImage, resolveImage } from './resolve.ts';

export interface PullDeps {
  access: RegistryAccess;
  store: PullStore;
  maxConcurrentDownloads: number;
  retry: RetryPolicy;
}

export interface PullRequest {
  reference: Reference;
  platform: Platform;
  mode: AuthMode;
}

type Plan = { kind: 'up-to-date'; digest: string } | { kind: 'fetch'; image: ResolvedImage };

export class Pull {
  readonly #deps: PullDeps;
  readonly #ref: Reference;
  readonly #repo: RepositoryClient;
  readonly #plan: Plan;
  /** Where transport retries are reported: nowhere until run() has a stream. */
  #progress: Progress = () => {};

  private constructor(deps: PullDeps, ref: Reference, repo: RepositoryClient, plan: Plan) {
    this.#deps = deps;
    this.#ref = ref;
    this.#repo = repo;
    this.#plan = plan;
  }

  static async prepare(deps: PullDeps, request: PullRequest, signal: AbortSignal): Promise<Pull> {
    const ref = request.reference;
    let pull: Pull | undefined;
    const repo = await deps.access.repository(ref.domain, ref.path, request.mode, {
      signal,
      onRetry: (n) => {
        if (pull) pull.#retrying(n.delayMs);
      },
    });
    const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
    const digest = await headDigest(repo, tagOrDigest);
    const plan: Plan =
      digest !== undefined && (await deps.store.completeDigestOf(ref.canonical, request.platform)) === digest
        ? { kind: 'up-to-date', digest }
        : {
            kind: 'fetch',
            image: await resolveImage(repo, tagOrDigest, digest, request.platform, familiarCanonical(ref)),
          };
    pull = new Pull(deps, ref, repo, plan);
    return pull;
  }

  #retrying(delayMs: number): void {
    this.#progress({ status: retryingStatus(delayMs) });
  }

  /** The familiar form the status lines name (alpine:latest, 127.0.0.1:5000/small:1). */
  get familiar(): string {
    return familiarCanonical(this.#ref);
  }

  /**
   * Streams the pull. `statusLine: false` leaves out the closing "Status:" line (a pull of every tag prints one for
   * the repository). Resolves whether anything new was stored.
   */
  async run(
    progress: Progress,
    signal: AbortSignal,
    options: { statusLine?: boolean } = {},
  ): Promise<'downloaded' | 'up-to-date'> {
    this.#progress = progress;
    const ref = this.#ref;
    const statusLine = options.statusLine ?? true;
    // dockerd's first line: "<tag>: Pulling from <path on the registry>", or the whole reference for a digest pull.
    progress({ status: `Pulling from ${ref.path}`, id: ref.digest ? this.familiar : (ref.tag ?? 'latest') });
    this.#repo.warnings.listen((warning) => progress(warningMessage(warning)));
    if (this.#plan.kind === 'up-to-date') {
      progress({ status: `Digest: ${this.#plan.digest}` });
      if (statusLine) progress({ status: `Status: Image is up to date for ${this.familiar}` });
      return 'up-to-date';
    }
    const image = this.#plan.image;
    await this.#store(image, progress, signal);
    progress({ status: `Digest: ${image.top.descriptor.digest}` });
    if (statusLine) progress({ status: `Status: Downloaded newer image for ${this.familiar}` });
    return 'downloaded';
  }

  async #store(image: ResolvedImage, progress: Progress, signal: AbortSignal): Promise<void> {
    const { store } = this.#deps;
    const blobs = [image.manifest.config, ...image.manifest.layers];
    const lease = store.lease([
      image.top.descriptor.digest,
      ...(image.child ? [image.child.descriptor.digest] : []),
      ...blobs.map((b) => b.digest),
    ]);
    try {
      const stored = new Set<string>();
      for (const blob of blobs) if (await store.has(blob.digest)) stored.add(blob.digest);
      // As dockerd: an image whose config and layers are all stored already is not pulled again, and prints no
      // layer lines (not even "Already exists"); only its references are recorded.
      if (blobs.some((b) => !stored.has(b.digest))) await this.#fetchBlobs(image, stored, progress, signal);
      await store.putBytes(image.top.descriptor.digest, image.top.bytes);
      if (image.child) await store.putBytes(image.child.descriptor.digest, image.child.bytes);
      await store.tag(this.#ref.canonical, image);
    } finally {
      lease.release();
    }
  }

  /** Fetches what `stored` (digests found in the store, under the pull's lease) lacks. */
  async #fetchBlobs(
    image: ResolvedImage,
    stored: Set<string>,
    progress: Progress,
    signal: AbortSignal,
  ): Promise<void> {
    const limit = this.#deps.maxConcurrentDownloads;
    const missing: OCIDescriptor[] = [];
    for (const layer of image.manifest.layers) {
      if (stored.has(layer.digest)) progress(layerStatus(layer.digest, 'Already exists'));
      else {
        progress(layerStatus(layer.digest, 'Pulling fs layer'));
        missing.push(layer);
      }
    }
    for (const layer of missing.slice(limit)) progress(layerStatus(layer.digest, 'Waiting'));
    // One failed blob stops the others; what they fetched stays on disk as partials for the retry to resume.
    const failed = new AbortController();
    const inner = AbortSignal.any([signal, failed.signal]);
    try {
      await Promise.all([
        fetchBlob(
          this.#blobFetch(),
          image.manifest.config,
          inner,
          () => {},
          () => {},
        ),
        forEachLimited(missing, limit, (layer) => this.#fetchLayer(layer, progress, inner)),
      ]);
    } catch (err) {
      failed.abort(err);
      throw err;
    }
  }

  async #fetchLayer(layer: OCIDescriptor, progress: Progress, signal: AbortSignal): Promise<void> {
    const downloading = throttled(100, (current) =>
      progress(layerProgress(layer.digest, 'Downloading', current, layer.size)),
    );
    try {
      await fetchBlob(this.#blobFetch(), layer, signal, downloading, (delayMs) =>
        progress(layerStatus(layer.digest, retryingStatus(delayMs))),
      );
    } catch (error) {
      // dockerd's wording, which users and scripts already search for.
      if (error instanceof DigestMismatchError) {
        throw new Error(`filesystem layer verification failed for digest ${layer.digest}`, { cause: error });
      }
      throw error;
    }
    progress(layerStatus(layer.digest, 'Verifying Checksum'));
    progress(layerStatus(layer.digest, 'Download complete'));
    progress(layerStatus(layer.digest, 'Pull complete'));
  }

  #blobFetch() {
    return { store: this.#deps.store, repo: this.#repo, retry: this.#deps.retry };
  }
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}
