// A push from the store to a registry over a typed reference, in two phases like a pull. prepare() settles
// authorization before the first stream byte: it opens (and abandons) an upload session so the push scope is
// challenged up front, and tries the cross-repository mounts, whose source scope is challenged too. run() uploads
// what is left, then the manifest.

import type { Readable } from 'node:stream';
import type { OCIDescriptor } from '../../../api-spec/types.ts';
import { familiarName, type Reference } from '../../../protocol/index.ts';
import type { AuthMode } from '../auth/auth-mode.ts';
import { LocalImageNotFoundError } from '../errors.ts';
import { layerStatus, type Progress, warningMessage } from '../progress.ts';
import type { RegistryAccess } from '../registry-access.ts';
import type { RepositoryClient } from '../repository-client.ts';

export interface PushPlan {
  tag: string;
  manifest: { descriptor: OCIDescriptor; bytes: Buffer };
  config: OCIDescriptor;
  layers: OCIDescriptor[];
  /** Other repositories of the same registry that hold this image's blobs (mount sources). */
  mountSources: string[];
}

/** The part of the data root a push uses. */
export interface PushStore {
  /** What to push for each local tag of `repository` (all tags when `tag` is undefined). */
  pushPlans(repository: string, tag: string | undefined): Promise<PushPlan[]>;
  openRead(digest: string): Promise<Readable>;
  /** Records `repository@<pushed manifest digest>` on the pushed image, as dockerd adds it to RepoDigests. */
  recordPushed(repository: string, plan: PushPlan): Promise<void>;
}

export interface PushDeps {
  access: RegistryAccess;
  store: PushStore;
}

export interface PushRequest {
  /** The repository, with the tag to push (none: every local tag). */
  reference: Reference;
  mode: AuthMode;
}

type BlobOutcome = { kind: 'exists' } | { kind: 'mounted'; from: string } | { kind: 'upload' };

interface PreparedPlan {
  plan: PushPlan;
  outcomes: Map<string, BlobOutcome>;
}

export class Push {
  readonly #deps: PushDeps;
  readonly #ref: Reference;
  readonly #repo: RepositoryClient;
  readonly #plans: PreparedPlan[];

  private constructor(deps: PushDeps, ref: Reference, repo: RepositoryClient, plans: PreparedPlan[]) {
    this.#deps = deps;
    this.#ref = ref;
    this.#repo = repo;
    this.#plans = plans;
  }

  static async prepare(deps: PushDeps, request: PushRequest, signal: AbortSignal): Promise<Push> {
    const ref = request.reference;
    const plans = await deps.store.pushPlans(ref.name, ref.tag);
    if (plans.length === 0) throw new LocalImageNotFoundError(familiarName(ref));
    const repo = await deps.access.repository(ref.domain, ref.path, request.mode, { signal, mirrors: false });
    const prepared: PreparedPlan[] = [];
    for (const plan of plans) prepared.push(await preparePlan(repo, plan));
    return new Push(deps, ref, repo, prepared);
  }

  /** Each pushed tag, in the familiar form (for image events). */
  async run(progress: Progress, onPushed: (familiarTag: string) => void): Promise<void> {
    progress({ status: `The push refers to repository [${familiarName(this.#ref)}]` });
    this.#repo.warnings.listen((warning) => progress(warningMessage(warning)));
    for (const p of this.#plans) {
      await this.#push(p, progress);
      await this.#deps.store.recordPushed(this.#ref.name, p.plan);
      onPushed(`${familiarName(this.#ref)}:${p.plan.tag}`);
    }
  }

  async #push({ plan, outcomes }: PreparedPlan, progress: Progress): Promise<void> {
    const repo = this.#repo;
    for (const layer of plan.layers) progress(layerStatus(layer.digest, 'Preparing'));
    for (const blob of [plan.config, ...plan.layers]) {
      const outcome = outcomes.get(blob.digest);
      const isLayer = blob !== plan.config;
      if (outcome?.kind === 'exists') {
        if (isLayer) progress(layerStatus(blob.digest, 'Layer already exists'));
      } else if (outcome?.kind === 'mounted') {
        if (isLayer) progress(layerStatus(blob.digest, `Mounted from ${outcome.from}`));
      } else {
        if (isLayer) progress(layerStatus(blob.digest, 'Pushing'));
        await repo.uploadBlob(blob.digest, blob.size, () => readable(this.#deps.store, blob.digest));
        if (isLayer) progress(layerStatus(blob.digest, 'Pushed'));
      }
    }
    const { descriptor, bytes } = plan.manifest;
    await repo.putManifest(plan.tag, bytes, descriptor.mediaType);
    progress({ status: `${plan.tag}: digest: ${descriptor.digest} size: ${descriptor.size}` });
    progress({ aux: { Tag: plan.tag, Digest: descriptor.digest, Size: descriptor.size } });
  }
}

async function preparePlan(repo: RepositoryClient, plan: PushPlan): Promise<PreparedPlan> {
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

/** The store's file stream, opened lazily so a replayed upload reads the blob again from the start. */
async function* readable(store: PushStore, digest: string): AsyncGenerator<Uint8Array> {
  yield* await store.openRead(digest);
}
