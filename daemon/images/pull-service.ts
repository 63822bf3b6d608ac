// POST /images/create as an engine operation: parse, settle authorization and resolution (prepare), then stream.

import type { JSONMessage } from '../../api-spec/json-message.ts';
import type { OCIPlatform } from '../../api-spec/types.ts';
import { familiarName, InvalidReferenceError, parseReference, type Reference } from '../../protocol/index.ts';
import { InvalidParameterError } from '../errors.ts';
import { defaultPlatform, normalizePlatform } from '../pull/platform.ts';
import { type PullStore, runPull } from '../pull/pull-job.ts';
import { headDigest, resolveImage } from '../pull/resolve.ts';
import type { RetryPolicy } from '../registry/retry.ts';
import type { ImageEvents } from './events.ts';
import type { PullRequest, StreamingJob } from './image-service.ts';
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
  const op: Operation = { kind: 'pull', familiarName: familiarName(ref), familiarRef: ref.familiar };
  const platform = request.platform ? normalizePlatform(request.platform) : defaultPlatform();
  let emitRetry: (m: JSONMessage) => void = () => {};
  const repo = await deps.access.repository(ref.domain, ref.path, request, {
    signal,
    onRetry: (n) => emitRetry({ status: `Retrying in ${Math.max(1, Math.round(n.delayMs / 1000))} seconds` }),
  });
  const status = (emit: (m: JSONMessage) => void, digest: string, text: string) => {
    emit({ status: `Digest: ${digest}` });
    emit({ status: `Status: ${text} ${ref.familiar}` });
  };
  try {
    const digest = await headDigest(repo, tagOrDigest);
    if (digest !== undefined && (await deps.store.completeDigestOf(storeAs, platform)) === digest) {
      return {
        async run(emit) {
          emit({ status: `Pulling from ${familiarName(ref)}`, id: tagOrDigest });
          status(emit, digest, 'Image is up to date for');
        },
      };
    }
    const image = await resolveImage(repo, tagOrDigest, digest, platform, ref.familiar);
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
              familiar: ref.familiar,
              tagOrDigest,
              repositoryPath: familiarName(ref),
              maxConcurrentDownloads: deps.maxConcurrentDownloads,
              retry: deps.retry,
            },
            emit,
            runSignal,
          );
        } catch (err) {
          throw mapRegistryError(err, op);
        }
        deps.events.publish('pull', ref.familiar);
      },
    };
  } catch (err) {
    throw mapRegistryError(err, op);
  }
}
