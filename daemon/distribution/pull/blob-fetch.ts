// One blob from the registry into the store: the store's single-flight, verify-while-writing ingest, fed by a Range
// request from where a partial download stopped (large blobs by several ranges, see store/ranged-download.ts). This is
// the blob's one retry layer (the transport does not retry blob GETs): a failed open, a cut body, an idle or too slow
// body is retried from the bytes already on disk, with the transport's policy; challenges and verification failures
// are final.

import type { OCIDescriptor } from '../../../api-spec/types.ts';
import { ForwardedChallengeError } from '../errors.ts';
import type { RepositoryClient } from '../repository-client.ts';
import { isRetryableError, type RetryPolicy, retryCall } from '../transport/retry.ts';
import type { PullStore } from './pull-store.ts';

export interface BlobFetch {
  store: PullStore;
  repo: RepositoryClient;
  retry: RetryPolicy;
}

export async function fetchBlob(
  f: BlobFetch,
  blob: OCIDescriptor,
  signal: AbortSignal,
  onProgress: (current: number) => void,
  onRetry: (delayMs: number) => void,
): Promise<void> {
  await retryCall(
    f.retry,
    signal,
    (err) => !(err instanceof ForwardedChallengeError) && isRetryableError(err),
    () =>
      f.store.fetchBlob(
        blob,
        // The store restarts the partial when the registry ignored Range (start 0).
        (offset, fetchSignal) => f.repo.openBlob(blob.digest, offset, fetchSignal, blob.size),
        {
          signal,
          onProgress: (current) => onProgress(current),
          // Large blobs in parallel ranges where the registry serves them; a retry resumes every range.
          openRange: (start, end, rangeSignal) => f.repo.openBlobRange(blob.digest, start, end, rangeSignal),
        },
      ),
    onRetry,
  );
}
