// A large blob over several connections, for registries and CDNs that cap each connection's rate:
// 1. A range is asked for a piece at a time: 4 MiB first, then what its connection carries in PIECE_MS. The registry
//    sends no byte past a piece's end, so no cut ever throws bytes away: a range is split only past the piece its
//    connection is on. (Asked for whole, a range split while the registry ran megabytes ahead of a loaded reader:
//    what its socket buffers held past the cut was fetched twice.) Only when the registry answers 206 with
//    Accept-Ranges, and only while the rest would take over a second at the rate seen, is a range split in two and
//    the second half asked for on another connection.
// 2. Connections double while each step adds to the rate of all blob transfers in the process (the cap is per
//    connection; see connection-growth.ts, which judges one step at a time for the whole process). A step that adds
//    too little found a shared bottleneck (the link, the registry, our CPU): the download adds no more connections,
//    and those it has finish their ranges (closing them would throw their pieces away). A finished connection takes
//    half of the largest range left, so the last range does not run alone.
// 3. The partial (the ingest) takes the blob in order and hashes it as it comes. A later range waits in a part file
//    beside it (`<hex>.part-<start>`) and is appended to the partial once the partial reaches it: one digest over the
//    bytes in order, verified before the blob gets its name.
// 4. A part file's length is its range's progress, so after a crash or a failed connection every range resumes where
//    it stopped. Retrying is the caller's (one retry layer): a failed range stops the others and the error goes up.
import { open, readdir, stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { giveBack } from '../read-buffers.ts';
import { isSinkable, sinkIntoFile } from './body-sink.ts';
import type { ConnectionGrowth, GrowthTrial, Transfer } from './connection-growth.ts';
import { parseDigest } from './digest.ts';
import { DigestMismatchError, DiskWriteError, SizeMismatchError, StoreError } from './errors.ts';
import { type Ingest, removeFile } from './ingest.ts';
import { DataRootLayout } from './layout.ts';
import { readPooled } from './pooled-file-read.ts';
import { RangeCut } from './range-cut.ts';
import { writeAll } from './write-behind.ts';

export interface RangeBody {
  body: Readable;
  /** Offset of the body's first byte: the asked start when the registry honoured Range, 0 when it sent it all. */
  start: number;
  /** The registry answered 206 and says `Accept-Ranges: bytes`. */
  rangeable: boolean;
  /** The registry answered 200: the body is the whole blob, whatever range was asked for. */
  whole: boolean;
}

/** Opens bytes [start, end) of the blob (`Range: bytes=<start>-<end - 1>`). */
export type OpenRange = (start: number, end: number, signal: AbortSignal) => Promise<RangeBody>;

/** The registry answered a range request with something else: ranges cannot be used for this blob. */
export class RangeIgnoredError extends StoreError {
  override readonly name = 'RangeIgnoredError';
  constructor(
    readonly digest: string,
    readonly asked: number,
    readonly start: number,
  ) {
    super(`the registry sent ${digest} from byte ${start} when asked for byte ${asked} on`);
  }
}

/** A range the registry's body ended before. */
export class ShortRangeError extends StoreError {
  override readonly name = 'ShortRangeError';
  constructor(
    readonly digest: string,
    readonly start: number,
    readonly end: number,
    readonly received: number,
  ) {
    super(`the body for bytes ${start}-${end - 1} of ${digest} ended at byte ${received}`);
  }
}

/** Blobs from this size on are fetched with range requests (smaller ones never last long enough to split). */
export const RANGED_MIN_BYTES = 16 * 1024 * 1024;
const MIN_PART_BYTES = 4 * 1024 * 1024;
/** A range's first piece: its connection's rate is not known yet. */
const FIRST_PIECE_BYTES = 4 * 1024 * 1024;
/**
 * Later pieces last this long at the rate the range's last piece came: each costs a request (a connection, on the
 * blob thread), and a split waits for the piece under way to end. Through a 16 MB/s-per-connection front, a 128 MiB
 * layer took 3.08 s with pieces of 2 s, 2.49 s with 1 s and 2.52 s with 0.5 s.
 */
const PIECE_MS = 1000;
const MAX_CONNECTIONS = 8;
/** How often the controller looks at the transfers. */
const TICK_MS = 50;
/** The length of the windows whose rates are compared. */
const WINDOW_MS = 250;
const WORTH_SPLITTING_MS = 1000;
const PART_BATCH_BYTES = 1 << 20;

interface Range {
  start: number;
  /** Bytes received up to here (on disk, or on their way to it). */
  received: number;
  /** Exclusive; lowered when the range is split. */
  end: number;
  /** undefined for the range the partial takes directly. */
  part: string | undefined;
  /** Settles once this range's connection stopped (every byte written, or failed). */
  done: Promise<void>;
  /** When its connection's first byte came (performance.now()), undefined before. */
  firstByteAt: number | undefined;
  /** Bytes since the window began. */
  windowBytes: number;
  /** The end of the piece its connection is on: the range is split no nearer. */
  requestEnd: number;
}

export interface RangedDownloadOptions {
  /** The process's judge of whether more connections pay, shared by all downloads. */
  growth: ConnectionGrowth;
  signal?: AbortSignal;
  /** Bytes of the blob received so far, in all ranges. */
  onProgress?: (bytes: number) => void;
}

/** Deletes the part files of the blob `hex`. */
export async function removeRangeParts(layout: DataRootLayout, hex: string): Promise<void> {
  for (const { path } of await listParts(layout, hex)) await removeFile(path);
}

/**
 * Fills `ingest` (which holds the lock of its digest) from the registry in ranges, resuming the part files an earlier
 * run left. Returns the bytes received. On success the ingest is complete (verified); on RangeIgnoredError the parts
 * are gone and the partial is what it was, for a plain download to continue.
 */
export async function downloadInRanges(
  ingest: Ingest,
  layout: DataRootLayout,
  openRange: OpenRange,
  options: RangedDownloadOptions,
): Promise<number> {
  const download = new RangedDownload(ingest, layout, openRange, options);
  try {
    return await download.run();
  } catch (error) {
    // Parts are kept for a resume, unless the ranges are of no use or their bytes are wrong.
    if (
      error instanceof RangeIgnoredError ||
      error instanceof DigestMismatchError ||
      error instanceof SizeMismatchError
    ) {
      await removeRangeParts(layout, parseDigest(ingest.digest, 'digest').hex);
    }
    throw error;
  }
}

class RangedDownload {
  readonly #ingest: Ingest;
  readonly #hex: string;
  readonly #layout: DataRootLayout;
  readonly #openRange: OpenRange;
  readonly #onProgress: ((bytes: number) => void) | undefined;
  readonly #growth: ConnectionGrowth;
  readonly #abort = new AbortController();
  readonly #ranges: Range[] = [];
  #failure: unknown;
  #transferred = 0;
  #rangeable = false;
  #growing = true;
  #target = 1;
  readonly #running = new Set<Range>();
  /** The growth step waiting for its verdict. */
  #trial: GrowthTrial | undefined;
  /** The ranges the last growth split off. */
  #lastGrowth: Range[] = [];
  #windowStart = performance.now();
  /** The process's byte count at the window's start. */
  #windowStartBytes: number;

  constructor(ingest: Ingest, layout: DataRootLayout, openRange: OpenRange, options: RangedDownloadOptions) {
    this.#ingest = ingest;
    this.#hex = parseDigest(ingest.digest, 'digest').hex;
    this.#layout = layout;
    this.#openRange = openRange;
    this.#onProgress = options.onProgress;
    this.#growth = options.growth;
    this.#windowStartBytes = this.#growth.bytes;
    const { signal } = options;
    if (signal) {
      signal.throwIfAborted();
      signal.addEventListener('abort', () => this.#fail(signal.reason), {
        once: true,
        signal: this.#abort.signal,
      });
    }
  }

  async run(): Promise<number> {
    await this.#plan();
    const timer = setInterval(() => this.#tick(), TICK_MS);
    try {
      for (const range of this.#ranges) if (range.received < range.end) this.#start(range);
      this.#target = Math.max(1, this.#running.size);
      await this.#appendInOrder();
    } catch (error) {
      this.#fail(error);
    } finally {
      clearInterval(timer);
      this.#growing = false;
      if (this.#trial) this.#growth.abandon(this.#trial);
      // Every connection must have written what it received before the caller closes the ingest or retries.
      await Promise.allSettled(this.#ranges.map((range) => range.done));
      this.#abort.abort();
    }
    if (this.#failure !== undefined) throw this.#failure;
    return this.#transferred;
  }

  /** The ranges: the partial's own, then one per part file an earlier run left (its length is its progress). */
  async #plan(): Promise<void> {
    const { size, offset } = this.#ingest;
    let parts: PartFile[] = [];
    for (const part of await listParts(this.#layout, this.#hex)) {
      // Appended to the partial before a crash took the part file away.
      if (part.start < offset && part.start + part.length <= offset) await removeFile(part.path);
      else parts.push(part);
    }
    const overlapping = parts.some(
      (p, i) => p.start + p.length > (parts[i + 1]?.start ?? size) || (i > 0 && p.start < offset),
    );
    if (overlapping) {
      for (const part of parts) await removeFile(part.path);
      parts = [];
    }
    const first = parts[0];
    this.#ranges.push(this.#range(0, offset, first ? Math.max(first.start, offset) : size, undefined));
    for (const [i, p] of parts.entries()) {
      this.#ranges.push(this.#range(p.start, p.start + p.length, parts[i + 1]?.start ?? size, p.path));
    }
  }

  #range(start: number, received: number, end: number, part: string | undefined): Range {
    return {
      start,
      received,
      end,
      part,
      done: Promise.resolve(),
      firstByteAt: undefined,
      windowBytes: 0,
      requestEnd: received,
    };
  }

  /** Appends each part to the partial once the partial reaches it: the digest sees the bytes in order. */
  async #appendInOrder(): Promise<void> {
    const ingest = this.#ingest;
    for (let i = 0; i < this.#ranges.length; i++) {
      const range = this.#ranges[i]!;
      await range.done;
      if (this.#failure !== undefined) throw this.#failure;
      if (range.received < range.end) {
        throw new ShortRangeError(ingest.digest, range.start, range.end, range.received);
      }
      if (range.part === undefined) continue;
      if (ingest.offset < range.end) {
        const from = ingest.offset - range.start;
        await ingest.write(readPooled(range.part, from, undefined, this.#abort.signal), {
          signal: this.#abort.signal,
        });
      }
      await removeFile(range.part);
    }
    if (!ingest.complete) throw new ShortRangeError(ingest.digest, 0, ingest.size, ingest.offset);
  }

  #start(range: Range): void {
    this.#running.add(range);
    const transfer = this.#growth.track();
    range.done = this.#fetch(range, transfer)
      .catch((error: unknown) => {
        this.#fail(error);
      })
      .finally(() => {
        transfer.close();
        this.#running.delete(range);
        this.#fill();
      });
  }

  async #fetch(range: Range, transfer: Transfer): Promise<void> {
    let piece = FIRST_PIECE_BYTES;
    while (range.received < range.end) {
      const began = performance.now();
      const from = range.received;
      await this.#fetchPiece(range, transfer, Math.min(range.end, from + piece));
      const rate = (range.received - from) / Math.max(1, performance.now() - began);
      piece = Math.max(FIRST_PIECE_BYTES, Math.round(rate * PIECE_MS));
    }
  }

  /** Bytes `range.received` up to `end` (a piece; a split stays past it) over one request. */
  async #fetchPiece(range: Range, transfer: Transfer, pieceEnd: number): Promise<void> {
    const asked = range.received;
    range.requestEnd = pieceEnd;
    const signal = this.#abort.signal;
    const { body, start, rangeable, whole } = await this.#openRange(asked, pieceEnd, signal);
    if (start !== asked) {
      body.destroy();
      throw new RangeIgnoredError(this.#ingest.digest, asked, start);
    }
    if (rangeable) this.#rangeable = true;
    // The whole blob from its first byte (Range ignored): it carries the range to its end, on this one request.
    const end = whole ? range.end : pieceEnd;
    range.requestEnd = end;
    const cut = new RangeCut(
      body,
      end - asked,
      (bytes) => {
        range.firstByteAt ??= performance.now();
        range.windowBytes += bytes;
        range.received += bytes;
        this.#transferred += bytes;
        transfer.count(bytes);
        this.#onProgress?.(this.#present());
      },
      transfer.heldBack,
    );
    if (range.part === undefined) {
      await this.#ingest.write(cut, { signal });
    } else {
      await appendToPart(range.part, cut, signal);
    }
    if (!cut.reached) throw new ShortRangeError(this.#ingest.digest, range.start, end, range.received);
  }

  /**
   * More connections while they pay. Rates count over a window of WINDOW_MS through which every transfer streamed:
   * the window starts again whenever one begins streaming or ends, so a connection's start is not taken for its rate,
   * and a growth step is judged as soon as its connections have streamed for one window (see connection-growth.ts).
   */
  #tick(): void {
    if (!this.#growing || !this.#rangeable) return;
    const now = performance.now();
    const trial = this.#trial;
    const steady =
      this.#growth.steadySince(this.#windowStart) &&
      (trial === undefined || this.#lastGrowth.every((r) => r.firstByteAt !== undefined));
    if (!steady) {
      this.#newWindow(now);
      if (trial && this.#growth.expired(trial)) this.#stopGrowing();
      return;
    }
    const window = now - this.#windowStart;
    if (window < WINDOW_MS) return;
    const all = (this.#growth.bytes - this.#windowStartBytes) / window;
    const flowing = [...this.#running].filter(
      (r) => r.firstByteAt !== undefined && r.firstByteAt <= this.#windowStart,
    );
    const flowingBytes = flowing.reduce((sum, r) => sum + r.windowBytes, 0);
    const total = this.#ranges.reduce((sum, r) => sum + r.windowBytes, 0);
    this.#newWindow(now);
    if (trial) {
      const pays = this.#growth.judge(trial, all);
      if (pays === undefined) return;
      this.#trial = undefined;
      if (!pays) {
        this.#stopGrowing();
        return;
      }
    }
    if (total === 0 || flowing.length === 0 || !this.#growth.canBegin) return;
    const left = this.#ingest.size - this.#present();
    if ((left / total) * window < WORTH_SPLITTING_MS || this.#target >= MAX_CONNECTIONS) return;
    const perConnection = flowingBytes / flowing.length / window;
    const target = this.#target;
    this.#target = Math.min(MAX_CONNECTIONS, target * 2);
    this.#lastGrowth = [];
    this.#fill(this.#lastGrowth);
    if (this.#lastGrowth.length > 0)
      this.#trial = this.#growth.begin(all, perConnection, this.#lastGrowth.length);
    else this.#target = target;
  }

  #newWindow(now: number): void {
    this.#windowStart = now;
    this.#windowStartBytes = this.#growth.bytes;
    for (const range of this.#ranges) range.windowBytes = 0;
  }

  /** The last growth did not pay: this download keeps the connections it has, which finish their ranges. */
  #stopGrowing(): void {
    this.#trial = undefined;
    this.#growing = false;
    this.#target = Math.max(1, this.#running.size);
  }

  /**
   * Splits running ranges until `target` connections run, each time the one whose second half is the largest (past
   * the piece under way); `added` collects the new ranges.
   */
  #fill(added?: Range[]): void {
    if (this.#failure !== undefined || !this.#rangeable || this.#growth.ourSideBound) return;
    while (this.#running.size < this.#target) {
      let best: { range: Range; at: number } | undefined;
      for (const range of this.#running) {
        if (range.end - range.received < 2 * MIN_PART_BYTES) continue;
        const at = this.#splitPoint(range);
        if (range.end - at >= MIN_PART_BYTES && (!best || range.end - at > best.range.end - best.at)) {
          best = { range, at };
        }
      }
      if (!best) return;
      const { range, at } = best;
      const second = this.#range(at, at, range.end, this.#layout.rangePartPath(this.#hex, at));
      range.end = at;
      this.#ranges.splice(this.#ranges.indexOf(range) + 1, 0, second);
      added?.push(second);
      this.#start(second);
    }
  }

  /** Halfway through what the range still wants, and past the piece its connection is on. */
  #splitPoint(range: Range): number {
    return Math.max(range.requestEnd, range.received + Math.floor((range.end - range.received) / 2));
  }

  #present(): number {
    return this.#ranges.reduce((sum, r) => sum + (r.received - r.start), 0);
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.#growing = false;
    this.#abort.abort(error);
  }
}

/** Appends the range's bytes to its part file in batches; what arrived is written even when the body fails. */
async function appendToPart(path: string, source: Readable, signal: AbortSignal): Promise<void> {
  if (isSinkable(source) && source.canSink(undefined)) {
    const result = await sinkIntoFile(source, path, undefined, {
      room: Number.POSITIVE_INFINITY,
      onBytes: () => {},
      cut: true,
      signal,
    });
    if (result.diskFailed) throw DiskWriteError.from(result.error, path);
    if (result.error) throw result.error;
    return;
  }
  const handle = await open(path, 'a');
  let batch: Uint8Array[] = [];
  let bytes = 0;
  const flush = async () => {
    const chunks = batch;
    const length = bytes;
    batch = [];
    bytes = 0;
    if (length === 0) return;
    await writeAll(handle, chunks, length).catch((error: unknown) => {
      throw DiskWriteError.from(error, path);
    });
    for (const chunk of chunks) giveBack(chunk);
  };
  try {
    for await (const chunk of source) {
      batch.push(chunk as Buffer);
      bytes += (chunk as Buffer).byteLength;
      if (bytes >= PART_BATCH_BYTES) await flush();
    }
  } finally {
    try {
      await flush();
    } finally {
      await handle.close();
    }
  }
}

interface PartFile {
  start: number;
  length: number;
  path: string;
}

async function listParts(layout: DataRootLayout, hex: string): Promise<PartFile[]> {
  const parts: PartFile[] = [];
  for (const name of await readdir(layout.ingest)) {
    if (name.endsWith('.partial') || DataRootLayout.ingestFileHex(name) !== hex) continue;
    const start = Number(name.slice(name.lastIndexOf('-') + 1));
    const path = layout.rangePartPath(hex, start);
    const info = await stat(path).catch(() => undefined);
    if (info) parts.push({ start, length: info.size, path });
  }
  return parts.sort((a, b) => a.start - b.start);
}
