// The part of the data root a pull uses: content in, references recorded (containerd's Provider/Ingester split).

import type { Platform } from '../../../protocol/index.ts';
import type { OpenRange } from '../../store/index.ts';
import type { ResolvedImage } from './resolve.ts';

export interface BlobFetchResult {
  status: 'exists' | 'fetched';
  transferred: number;
  resumedFrom: number;
}

export interface PullStore {
  has(digest: string): Promise<boolean>;
  putBytes(digest: string, bytes: Buffer): Promise<void>;
  fetchBlob(
    descriptor: { digest: string; size: number },
    open: (
      offset: number,
      signal: AbortSignal,
    ) => Promise<{ body: AsyncIterable<Uint8Array>; start: number }>,
    options: {
      signal?: AbortSignal;
      onProgress?: (current: number, total: number) => void;
      openRange?: OpenRange;
    },
  ): Promise<BlobFetchResult>;
  lease(digests: string[]): { release(): void };
  tag(reference: string, image: ResolvedImage): Promise<void>;
  /** The top-level digest stored under a reference, when every blob it needs (for `platform`) is present. */
  completeDigestOf(reference: string, platform: Platform): Promise<string | undefined>;
}
