// The stream phase of a pull: config and layers downloaded concurrently into the store (resuming partial blobs
// with Range), with the progress vocabulary dockerd sends. Blob failures worth retrying are retried here, from
// where the partial download stopped.

import type { JSONMessage } from '../../api-spec/json-message.ts';
import type { OCIDescriptor } from '../../api-spec/types.ts';
import { RegistryChallengeError } from '../errors.ts';
import type { RepositoryClient } from '../registry/repository-client.ts';
import { isRetryableError, type RetryPolicy, retryDelay, sleep } from '../registry/retry.ts';
import { DigestMismatchError } from '../store/errors.ts';
import { layerProgress, layerStatus, retryingStatus, throttled } from './progress.ts';
import type { ResolvedImage } from './resolve.ts';

export interface BlobFetchResult {
  status: 'exists' | 'fetched';
  transferred: number;
  resumedFrom: number;
}

/** The part of the content store a pull uses. */
export interface PullStore {
  has(digest: string): Promise<boolean>;
  putBytes(digest: string, bytes: Buffer): Promise<void>;
  fetchBlob(
    descriptor: { digest: string; size: number },
    open: (
      offset: number,
      signal: AbortSignal,
    ) => Promise<{ body: AsyncIterable<Uint8Array>; start: number }>,
    options: { signal?: AbortSignal; onProgress?: (current: number, total: number) => void },
  ): Promise<BlobFetchResult>;
  lease(digests: string[]): { release(): void };
  tag(reference: string, image: ResolvedImage): Promise<void>;
}

export interface PullJobOptions {
  store: PullStore;
  repo: RepositoryClient;
  image: ResolvedImage;
  /** Canonical reference the image is stored under (docker.io/library/alpine:latest, host:port/repo:tag). */
  storeAs: string;
  /** What the status lines name (the familiar form, as dockerd prints). */
  familiar: string;
  /** The tag or digest, shown as the id of "Pulling from". */
  tagOrDigest: string;
  repositoryPath: string;
  maxConcurrentDownloads: number;
  retry: RetryPolicy;
}

export async function runPull(
  o: PullJobOptions,
  emit: (m: JSONMessage) => void,
  signal: AbortSignal,
): Promise<void> {
  emit({ status: `Pulling from ${o.repositoryPath}`, id: o.tagOrDigest });
  const { image, store } = o;
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
    if (blobs.some((b) => !stored.has(b.digest))) await fetchBlobs(o, stored, emit, signal);
    await store.putBytes(image.top.descriptor.digest, image.top.bytes);
    if (image.child) await store.putBytes(image.child.descriptor.digest, image.child.bytes);
    await store.tag(o.storeAs, image);
  } finally {
    lease.release();
  }
  emit({ status: `Digest: ${image.top.descriptor.digest}` });
  emit({ status: `Status: Downloaded newer image for ${o.familiar}` });
}

/** Fetches what `stored` (digests found in the store, under the pull's lease) lacks. */
async function fetchBlobs(
  o: PullJobOptions,
  stored: Set<string>,
  emit: (m: JSONMessage) => void,
  signal: AbortSignal,
): Promise<void> {
  const missing: OCIDescriptor[] = [];
  for (const layer of o.image.manifest.layers) {
    if (stored.has(layer.digest)) emit(layerStatus(layer.digest, 'Already exists'));
    else {
      emit(layerStatus(layer.digest, 'Pulling fs layer'));
      missing.push(layer);
    }
  }
  for (const layer of missing.slice(o.maxConcurrentDownloads)) emit(layerStatus(layer.digest, 'Waiting'));
  // One failed blob stops the others; what they fetched stays on disk as partials for the retry to resume.
  const failed = new AbortController();
  const inner = AbortSignal.any([signal, failed.signal]);
  try {
    await Promise.all([
      fetchQuietly(o, o.image.manifest.config, inner),
      forEachLimited(missing, o.maxConcurrentDownloads, (layer) => fetchLayer(o, layer, emit, inner)),
    ]);
  } catch (err) {
    failed.abort(err);
    throw err;
  }
}

async function fetchQuietly(o: PullJobOptions, blob: OCIDescriptor, signal: AbortSignal): Promise<void> {
  await fetchWithRetry(
    o,
    blob,
    signal,
    () => {},
    () => {},
  );
}

async function fetchLayer(
  o: PullJobOptions,
  layer: OCIDescriptor,
  emit: (m: JSONMessage) => void,
  signal: AbortSignal,
): Promise<void> {
  const progress = throttled(100, (current) =>
    emit(layerProgress(layer.digest, 'Downloading', current, layer.size)),
  );
  try {
    await fetchWithRetry(o, layer, signal, progress, (delayMs) =>
      emit(layerStatus(layer.digest, retryingStatus(delayMs))),
    );
  } catch (error) {
    // dockerd's wording, which users and scripts already search for.
    if (error instanceof DigestMismatchError) {
      throw new Error(`filesystem layer verification failed for digest ${layer.digest}`, { cause: error });
    }
    throw error;
  }
  emit(layerStatus(layer.digest, 'Verifying Checksum'));
  emit(layerStatus(layer.digest, 'Download complete'));
  emit(layerStatus(layer.digest, 'Pull complete'));
}

/** A body cut mid-way is retried from the bytes already on disk; challenges and verification failures are final. */
async function fetchWithRetry(
  o: PullJobOptions,
  blob: OCIDescriptor,
  signal: AbortSignal,
  onProgress: (current: number) => void,
  onRetry: (delayMs: number) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await o.store.fetchBlob(
        blob,
        // The store restarts the partial when the registry ignored Range (start 0).
        (offset, fetchSignal) => o.repo.openBlob(blob.digest, offset, fetchSignal),
        { signal, onProgress: (current) => onProgress(current) },
      );
      return;
    } catch (err) {
      if (err instanceof RegistryChallengeError || signal.aborted) throw err;
      if (!isRetryableError(err) || attempt > o.retry.maxRetries) throw err;
      const delay = retryDelay(o.retry, attempt);
      onRetry(delay);
      await sleep(delay, signal);
    }
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
