// Single-flight downloads: one transfer per digest in this process, however many pulls need the blob. The first
// caller (the leader) downloads with its own `open` and signal; the others wait and share its progress. A waiter is
// never failed by the leader's failure: if the leader fails or is aborted, the waiter tries again with its own
// `open`, resuming from the partial the leader left.
import type { Readable } from 'node:stream';
import { untilAborted } from '../../protocol/abort.ts';
import { ConnectionGrowth } from './connection-growth.ts';
import { parseDigest, parseSize } from './digest.ts';
import {
  DigestMismatchError,
  IncompleteBlobError,
  InvalidArgumentError,
  SizeMismatchError,
} from './errors.ts';
import type { ByteSource, Ingest } from './ingest.ts';
import type { DataRootLayout } from './layout.ts';
import type { Lease } from './lease.ts';
import {
  downloadInRanges,
  type OpenRange,
  RANGED_MIN_BYTES,
  RangeIgnoredError,
  removeRangeParts,
} from './ranged-download.ts';

/**
 * Opens the blob's bytes from `offset` (an HTTP `Range: bytes=<offset>-` request). Return the body, or
 * `{ body, start }` to say where it really starts: `start: 0` when the server ignored the Range and sent it all.
 */
export type OpenBlob = (offset: number, signal: AbortSignal) => Promise<BlobBody>;
export type BlobBody = ByteSource | { body: ByteSource; start: number };

export interface FetchBlobOptions {
  signal?: AbortSignal;
  /** Bytes of the blob present so far (`current`) out of `total`, for this caller's download or the one it joined. */
  onProgress?: (current: number, total: number) => void;
  /** Added to the lease before anything else, so the blob outlives the call until the lease is released. */
  lease?: Lease;
  /**
   * Opens a range of the blob. Given, a large blob is fetched over several connections while that pays (see
   * ranged-download.ts); `open` still serves when the registry does not answer ranges.
   */
  openRange?: OpenRange;
}

export interface FetchResult {
  /** `exists`: the blob was already committed; `fetched`: it was downloaded (by this call, or by the one it joined). */
  status: 'exists' | 'fetched';
  /** Bytes this call received through its own `open` (0 when it found the blob or joined another download). */
  transferred: number;
  /** Offset of this call's last `open` (> 0 when it resumed a partial download). */
  resumedFrom: number;
  /** Another caller in this process downloaded the blob while this one waited. */
  shared: boolean;
}

interface Flight {
  size: number;
  listeners: Set<(current: number) => void>;
  done: Promise<FetchResult>;
}

type OpenIngest = (
  expected: { digest: string; size: number },
  signal?: AbortSignal,
) => Promise<Ingest | undefined>;

export class BlobFetcher {
  readonly #openIngest: OpenIngest;
  readonly #layout: DataRootLayout;
  readonly #flights = new Map<string, Flight>();
  readonly #growth = new ConnectionGrowth();

  constructor(openIngest: OpenIngest, layout: DataRootLayout) {
    this.#openIngest = openIngest;
    this.#layout = layout;
  }

  async fetch(
    desc: { digest: string; size: number },
    open: OpenBlob,
    options: FetchBlobOptions = {},
  ): Promise<FetchResult> {
    const digest = parseDigest(desc.digest, 'digest').value;
    const size = parseSize(desc.size, 'size');
    const { signal, onProgress, lease, openRange } = options;
    signal?.throwIfAborted();
    lease?.add(digest);
    const listener = onProgress && ((current: number) => onProgress(current, size));
    for (;;) {
      const flight = this.#flights.get(digest);
      if (!flight) return this.#lead(digest, size, open, openRange, signal, listener);
      if (listener) flight.listeners.add(listener);
      try {
        const result = await untilAborted(flight.done, signal);
        if (flight.size !== size) throw new SizeMismatchError(digest, size, flight.size);
        return { status: result.status, transferred: 0, resumedFrom: 0, shared: result.status === 'fetched' };
      } catch (error) {
        if (signal?.aborted || error instanceof SizeMismatchError) throw error;
        // The leader's failure is its own (its abort, its credentials, its connection): try with ours.
      } finally {
        if (listener) flight.listeners.delete(listener);
      }
    }
  }

  #lead(
    digest: string,
    size: number,
    open: OpenBlob,
    openRange: OpenRange | undefined,
    signal: AbortSignal | undefined,
    listener: ((current: number) => void) | undefined,
  ): Promise<FetchResult> {
    const listeners = new Set(listener ? [listener] : []);
    const progress = (current: number) => {
      for (const l of listeners) l(current);
    };
    // The flight leaves the map before its promise settles, so a waiter that retries never finds it again.
    const done = this.#download(digest, size, open, openRange, signal, progress).finally(() =>
      this.#flights.delete(digest),
    );
    done.catch(() => {});
    this.#flights.set(digest, { size, listeners, done });
    return done;
  }

  async #download(
    digest: string,
    size: number,
    open: OpenBlob,
    openRange: OpenRange | undefined,
    signal: AbortSignal | undefined,
    progress: (current: number) => void,
  ): Promise<FetchResult> {
    const openSignal = signal ?? new AbortController().signal;
    let transferred = 0;
    for (let retried = false; ; retried = true) {
      const ingest = await this.#openIngest({ digest, size }, signal);
      if (!ingest) return { status: 'exists', transferred, resumedFrom: 0, shared: false };
      let resumedFrom = ingest.offset;
      try {
        if (!ingest.complete && size >= RANGED_MIN_BYTES) {
          progress(ingest.offset);
          transferred += await this.#downloadInRanges(ingest, openRange, signal, progress);
        }
        if (!ingest.complete) {
          progress(ingest.offset);
          const body = await open(ingest.offset, openSignal);
          const source = await this.#alignBody(ingest, body);
          resumedFrom = ingest.offset;
          let last = ingest.offset;
          const transfer = this.#growth.track();
          try {
            await ingest.write(source, {
              signal,
              onProgress: (current) => {
                transferred += current - last;
                transfer.count(current - last);
                last = current;
                progress(current);
              },
              onHeldBack: transfer.heldBack,
            });
          } finally {
            transfer.close();
          }
          if (!ingest.complete) throw new IncompleteBlobError(digest, size, ingest.offset);
        }
        await ingest.commit();
        return { status: 'fetched', transferred, resumedFrom, shared: false };
      } catch (error) {
        // Bytes resumed from an earlier run may be what is wrong: the partial is gone now, so try once from zero.
        if (error instanceof DigestMismatchError && resumedFrom > 0 && !retried) continue;
        throw error;
      } finally {
        await ingest.close();
      }
    }
  }

  /** Bytes received in ranges; none when there is no `openRange` or the registry ignored Range. */
  async #downloadInRanges(
    ingest: Ingest,
    openRange: OpenRange | undefined,
    signal: AbortSignal | undefined,
    progress: (current: number) => void,
  ): Promise<number> {
    const hex = parseDigest(ingest.digest, 'digest').hex;
    if (!openRange) {
      await removeRangeParts(this.#layout, hex);
      return 0;
    }
    try {
      return await downloadInRanges(ingest, this.#layout, openRange, {
        growth: this.#growth,
        signal,
        onProgress: progress,
      });
    } catch (error) {
      // The registry does not answer ranges of this blob: one plain request from where the partial is.
      if (error instanceof RangeIgnoredError) return 0;
      throw error;
    }
  }

  async #alignBody(ingest: Ingest, body: BlobBody): Promise<ByteSource> {
    if (Symbol.asyncIterator in body) return body as ByteSource | Readable;
    if (body.start === ingest.offset) return body.body;
    if (body.start !== 0) {
      throw new InvalidArgumentError(
        'start',
        `body starts at ${body.start}, asked for ${ingest.offset} or 0`,
      );
    }
    await ingest.restart();
    return body.body;
  }
}
