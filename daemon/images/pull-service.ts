// POST /images/create as an engine operation: parse, settle authorization and resolution (prepare), then stream.

import type { JSONMessage } from '../../api-spec/json-message.ts';
import type { OCIPlatform } from '../../api-spec/types.ts';
import { familiarName, InvalidReferenceError, parseReference, type Reference } from '../../protocol/index.ts';
import { InvalidParameterError } from '../errors.ts';
import { defaultPlatform, normalizePlatform } from '../pull/platform.ts';
import { retryingStatus } from '../pull/progress.ts';
import { type PullStore, runPull } from '../pull/pull-job.ts';
import { headDigest, resolveImage } from '../pull/resolve.ts';
import type { RetryPolicy } from '../registry/retry.ts';
import type { ImageEvents } from './events.ts';
import type { PullRequest, StreamingJob } from './image-service.ts';
import { familiarOf } from './local-images.ts';
import type { RegistryAccess } from './registry-access.ts';
import { mapRegistryError, type Operation } from './registry-errors.ts';

export interface PullDeps {
  access: RegistryAccess;
  store: PullStore & {
    /** The top-level digest stored under a reference, when every blob it needs (for `platform`) is present. */
    completeDigestOf(reference: string, platform: OCIPlatform): Promise<string | undefined>;
  };
  events: ImageEvents;
  maxConcurrentDownloads: number;
  retry: RetryPolicy;
}

export function parseImageReference(value: string): Reference {
  try {
    return parseReference(value);
  } catch (err) {
    if (err instanceof InvalidReferenceError)
      throw new InvalidParameterError(`invalid reference format: ${err.message}`);
    throw err;
  }
}

export async function preparePull(
  deps: PullDeps,
  request: PullRequest,
  signal: AbortSignal,
): Promise<StreamingJob> {
  const ref = parseImageReference(request.reference);
  const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
  const storeAs = ref.canonical;
  // Status lines name the tag as docker prints it (alpine:latest, not alpine).
  const familiar = familiarOf(ref.canonical);
  const op: Operation = { kind: 'pull', familiarName: familiarName(ref), familiarRef: familiar };
  // dockerd's first line: "<tag>: Pulling from <path on the registry>", or the whole reference for a digest pull.
  const pullingId = ref.digest ? familiar : tagOrDigest;
  const platform = request.platform ? normalizePlatform(request.platform) : defaultPlatform();
  let emitRetry: (m: JSONMessage) => void = () => {};
  const repo = await deps.access.repository(ref.domain, ref.path, request, {
    signal,
    onRetry: (n) => emitRetry({ status: retryingStatus(n.delayMs) }),
  });
  try {
    const digest = await headDigest(repo, tagOrDigest);
    if (digest !== undefined && (await deps.store.completeDigestOf(storeAs, platform)) === digest) {
      return {
        async run(emit) {
          emit({ status: `Pulling from ${ref.path}`, id: pullingId });
          emit({ status: `Digest: ${digest}` });
          emit({ status: `Status: Image is up to date for ${familiar}` });
        },
      };
    }
    const image = await resolveImage(repo, tagOrDigest, digest, platform, familiar);
    return {
      async run(emit, runSignal) {
        emitRetry = emit;
        try {
          await runPull(
            {
              store: deps.store,
              repo,
              image,
              storeAs,
              familiar,
              tagOrDigest: pullingId,
              repositoryPath: ref.path,
              maxConcurrentDownloads: deps.maxConcurrentDownloads,
              retry: deps.retry,
            },
            emit,
            runSignal,
          );
        } catch (err) {
          throw mapRegistryError(err, op);
        }
        deps.events.publish('pull', familiar);
      },
    };
  } catch (err) {
    throw mapRegistryError(err, op);
  }
}
