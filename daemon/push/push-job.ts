// A push from the store to a registry, in two phases like a pull. `preparePush` settles authorization before the
// first stream byte: it opens (and cancels) an upload session so the push scope is challenged up front, and tries
// the cross-repository mounts, whose source scope is challenged too. The stream phase uploads what is left.

import type { Readable } from 'node:stream';
import type { JSONMessage } from '../../api-spec/json-message.ts';
import type { OCIDescriptor } from '../../api-spec/types.ts';
import { layerStatus } from '../pull/progress.ts';
import type { RepositoryClient } from '../registry/repository-client.ts';

/** The part of the content store a push reads. */
export interface PushSource {
  openRead(digest: string): Promise<Readable>;
}

export interface PushPlan {
  tag: string;
  manifest: { descriptor: OCIDescriptor; bytes: Buffer };
  config: OCIDescriptor;
  layers: OCIDescriptor[];
  /** Other repositories of the same registry that hold this image's blobs (mount sources). */
  mountSources: string[];
}

export type BlobOutcome = { kind: 'exists' } | { kind: 'mounted'; from: string } | { kind: 'upload' };

export interface PreparedPush {
  plan: PushPlan;
  outcomes: Map<string, BlobOutcome>;
}

export async function preparePush(repo: RepositoryClient, plan: PushPlan): Promise<PreparedPush> {
  await repo.probeUpload();
  const outcomes = new Map<string, BlobOutcome>();
  for (const blob of [plan.config, ...plan.layers]) {
    if (outcomes.has(blob.digest)) continue;
    outcomes.set(blob.digest, await blobOutcome(repo, blob.digest, plan.mountSources));
  }
  return { plan, outcomes };
}

async function blobOutcome(repo: RepositoryClient, digest: string, sources: string[]): Promise<BlobOutcome> {
  if (await repo.blobExists(digest)) return { kind: 'exists' };
  for (const from of sources) {
    if (await repo.mountBlob(digest, from)) return { kind: 'mounted', from };
  }
  return { kind: 'upload' };
}

export async function runPush(
  repo: RepositoryClient,
  source: PushSource,
  prepared: PreparedPush,
  emit: (m: JSONMessage) => void,
): Promise<void> {
  const { plan, outcomes } = prepared;
  for (const layer of plan.layers) emit(layerStatus(layer.digest, 'Preparing'));
  for (const blob of [plan.config, ...plan.layers]) {
    const outcome = outcomes.get(blob.digest);
    const isLayer = blob !== plan.config;
    if (outcome?.kind === 'exists') {
      if (isLayer) emit(layerStatus(blob.digest, 'Layer already exists'));
    } else if (outcome?.kind === 'mounted') {
      if (isLayer) emit(layerStatus(blob.digest, `Mounted from ${outcome.from}`));
    } else {
      if (isLayer) emit(layerStatus(blob.digest, 'Pushing'));
      await repo.uploadBlob(blob.digest, blob.size, () => readable(source, blob.digest));
      if (isLayer) emit(layerStatus(blob.digest, 'Pushed'));
    }
  }
  const { descriptor, bytes } = plan.manifest;
  await repo.putManifest(plan.tag, bytes, descriptor.mediaType);
  emit({ status: `${plan.tag}: digest: ${descriptor.digest} size: ${descriptor.size}` });
  emit({ aux: { Tag: plan.tag, Digest: descriptor.digest, Size: descriptor.size } });
}

/** The store's file stream, opened lazily so a replayed upload reads the blob again from the start. */
async function* readable(source: PushSource, digest: string): AsyncGenerator<Uint8Array> {
  yield* await source.openRead(digest);
}
