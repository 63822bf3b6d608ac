// POST /images/{name}/push as an engine operation: find the local image, settle authorization (prepare), stream.

import { familiarName } from '../../protocol/index.ts';
import { NotFoundError } from '../errors.ts';
import { type PreparedPush, type PushPlan, type PushSource, preparePush, runPush } from '../push/push-job.ts';
import type { ImageEvents } from './events.ts';
import type { PushRequest, StreamingJob } from './image-service.ts';
import { parseImageReference } from './pull-service.ts';
import type { RegistryAccess } from './registry-access.ts';
import { mapRegistryError } from './registry-errors.ts';

export interface PushCatalog extends PushSource {
  /** What to push for each local tag of `repository` (all tags when `tag` is undefined). */
  pushPlans(repository: string, tag: string | undefined): Promise<PushPlan[]>;
  /** Records `repository@<pushed manifest digest>` on the pushed image, as dockerd adds it to RepoDigests. */
  recordPushed(repository: string, plan: PushPlan): Promise<void>;
}

export interface PushDeps {
  access: RegistryAccess;
  catalog: PushCatalog;
  events: ImageEvents;
}

export async function preparePushJob(
  deps: PushDeps,
  request: PushRequest,
  signal: AbortSignal,
): Promise<StreamingJob> {
  const ref = parseImageReference(request.tag ? `${request.name}:${request.tag}` : request.name);
  const repository = `${ref.domain}/${ref.path}`;
  const plans = await deps.catalog.pushPlans(repository, request.tag || undefined);
  if (plans.length === 0) {
    throw new NotFoundError(`An image does not exist locally with the tag: ${familiarName(ref)}`);
  }
  const op = { kind: 'push' as const, familiarName: familiarName(ref), familiarRef: ref.familiar };
  const repo = await deps.access.repository(ref.domain, ref.path, request, { signal, mirrors: false });
  try {
    const prepared: PreparedPush[] = [];
    for (const plan of plans) prepared.push(await preparePush(repo, plan));
    return {
      async run(emit) {
        emit({ status: `The push refers to repository [${familiarName(ref)}]` });
        try {
          for (const p of prepared) {
            await runPush(repo, deps.catalog, p, emit);
            await deps.catalog.recordPushed(repository, p.plan);
            deps.events.publish('push', `${familiarName(ref)}:${p.plan.tag}`);
          }
        } catch (err) {
          throw mapRegistryError(err, op);
        }
      },
    };
  } catch (err) {
    throw mapRegistryError(err, op);
  }
}
