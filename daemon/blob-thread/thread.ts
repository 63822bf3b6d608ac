// The blob thread: it hashes large blobs, and makes the bulk GETs of large blob bodies, reading each body and writing
// it to its file here. The daemon's event loop then sees a message per megabyte or so of a pull instead of every
// read, write and hash hand-off, and stays free to answer its API: a loop busy with 537 MB answered GET /_ping in
// 20-40 ms at p99 on two cores, one that only steers the pull in 8-10 ms. Everything that decides (authorization,
// redirects, retries, ranges, the address guard) stays in the daemon; this thread only moves bytes it is told to.
import { createHash, type Hash } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { fdatasync, write, writev } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { finished, type Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { SecureContexts, screenedLookup, trustKey } from '../../protocol/address-guard.ts';
import { type WireConnection, wireRequest } from '../distribution/transport/http1-wire.ts';
import { watchTransferRate } from '../distribution/transport/transfer-rate.ts';
import { KEEP_ALIVE_MS, WirePool } from '../distribution/transport/wire-pool.ts';
import { HeldTime } from '../held-time.ts';
import { giveBack } from '../read-buffers.ts';
import { type BlobFile, WriteBehind } from '../store/write-behind.ts';
import { lowerThisThread } from '../thread-priority.ts';
import {
  type BlobThreadData,
  type FromThread,
  serializeError,
  type ThreadRequest,
  type ToThread,
} from './messages.ts';

const port = parentPort;
if (port === null) throw new Error('the blob thread runs as a worker');
const { nice } = workerData as BlobThreadData;
if (nice !== undefined) lowerThisThread(nice);

const post = (message: FromThread, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer ?? []);

/**
 * The daemon's hashes of large blobs: a body written here is hashed here, in the same pass. A hashing thread of this
 * thread's own cost an isolate (10 MiB of peak RSS) for no speed measured.
 */
const hashes = new Map<number, Hash>();
const exchanges = new Map<number, ThreadExchange>();

/** Acknowledgements of hashed chunks, one per hash per turn of the loop. */
const acks = new Map<number, number>();
let acking = false;

function acknowledge(id: number, seq: number): void {
  acks.set(id, seq);
  if (acking) return;
  acking = true;
  setImmediate(() => {
    acking = false;
    for (const [hash, last] of acks) post({ op: 'hashed', id: hash, seq: last });
    acks.clear();
  });
}

port.on('message', (m: ToThread) => {
  switch (m.op) {
    case 'open':
      hashes.set(m.id, createHash(m.algorithm));
      return;
    case 'update':
      hashes.get(m.id)?.update(new Uint8Array(m.buffer, m.offset, m.length));
      acknowledge(m.id, m.seq);
      return;
    case 'digest': {
      const hash = hashes.get(m.id);
      if (hash) post({ op: 'digest', id: m.id, hex: hash.copy().digest('hex') });
      else post({ op: 'hashFailed', id: m.id, error: serializeError(new Error(`no hash ${m.id}`)) });
      return;
    }
    case 'close':
      hashes.delete(m.id);
      return;
    case 'fetch':
      exchanges.set(m.id, new ThreadExchange(m.id, m.request));
      return;
    default:
      exchanges.get(m.id)?.handle(m);
  }
});

/** The trust settings' TLS contexts, and net.connect's lookup answered with the addresses the daemon screened. */
const secureContexts = new SecureContexts();
const fixedLookup = (addresses: LookupAddress[] | undefined): LookupFunction | undefined =>
  addresses && screenedLookup(async () => addresses);

/**
 * Connections kept between requests: a range is asked for a piece at a time, and each piece on a connection of its own
 * would cost a TCP and TLS handshake and a new slow start. A connection serves only requests with its origin, trust
 * and screened addresses: one the daemon's address guard allowed for one registry never serves another's request
 * that its screening would have sent elsewhere.
 */
const kept = new WirePool<WireConnection>(KEEP_ALIVE_MS);
const keptKey = (url: URL, request: ThreadRequest): string =>
  JSON.stringify([url.origin, trustKey(request.ca), request.addresses?.map((a) => a.address) ?? null]);

/** A file descriptor the daemon opened (and closes once the sink reported its end), as write-behind.ts writes. */
function descriptorFile(fd: number): BlobFile {
  return {
    writev: (chunks) =>
      new Promise((resolve, reject) =>
        writev(fd, chunks, (error, bytesWritten) => (error ? reject(error) : resolve({ bytesWritten }))),
      ),
    write: (buffer, offset, length) =>
      new Promise((resolve, reject) =>
        write(fd, buffer, offset, length, null, (error, bytesWritten) =>
          error ? reject(error) : resolve({ bytesWritten }),
        ),
      ),
    datasync: () =>
      new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve()))),
  };
}

class ThreadExchange {
  readonly #id: number;
  readonly #abort = new AbortController();
  #body: Readable | undefined;
  /** The body goes to the daemon a chunk at a time. */
  #forwarding = false;
  #dropped = false;
  #sink: Sink | undefined;

  constructor(id: number, request: ThreadRequest) {
    this.#id = id;
    const url = new URL(request.url);
    wireRequest({
      method: 'GET',
      url,
      headers: request.headers,
      secureContext: secureContexts.get(request.ca),
      lookup: fixedLookup(request.addresses),
      signal: this.#abort.signal,
      idleTimeoutMs: request.idleTimeoutMs,
      bulk: true,
      pool: kept,
      poolKey: keptKey(url, request),
    }).then(
      (response) => {
        if (this.#dropped) {
          exchanges.delete(id);
          response.body.destroy();
          return;
        }
        this.#body = response.body;
        // Its failure is reported once the daemon reads or sinks the body; until then nobody listens.
        this.#body.on('error', () => {});
        post({ op: 'head', id, statusCode: response.statusCode, headers: response.headers });
      },
      (error: unknown) => {
        exchanges.delete(id);
        if (!this.#dropped) post({ op: 'failed', id, error: serializeError(error) });
      },
    );
  }

  handle(m: ToThread): void {
    const body = this.#body;
    if (m.op === 'drop') {
      this.#dropped = true;
      this.#abort.abort(new Error('dropped'));
      if (this.#sink) this.#sink.drop();
      else body?.destroy();
      // A sink still reports what it wrote, and leaves once it did.
      if (this.#sink === undefined) exchanges.delete(this.#id);
      return;
    }
    if (body === undefined) return;
    if (m.op === 'rate') {
      if (m.rate.minBytesPerSecond <= 0) return;
      this.#body = watchTransferRate(body, m.rate);
      this.#body.on('error', () => {});
    } else if (m.op === 'read') this.#read(body);
    else if (m.op === 'sink') {
      this.#sink = new Sink(this.#id, body, descriptorFile(m.fd), m, () => exchanges.delete(this.#id));
    }
  }

  /** Forwards one chunk per request of the daemon's: the body of an answer it reads itself (an error, a test). */
  #read(body: Readable): void {
    if (!this.#forwarding) {
      this.#forwarding = true;
      body.on('data', (chunk: Buffer) => {
        body.pause();
        const bytes = new Uint8Array(chunk.byteLength);
        bytes.set(chunk);
        giveBack(chunk);
        post({ op: 'chunk', id: this.#id, bytes: bytes.buffer }, [bytes.buffer]);
      });
      finished(body, (error) => {
        exchanges.delete(this.#id);
        if (this.#dropped) return;
        if (error) post({ op: 'error', id: this.#id, error: serializeError(error) });
        else post({ op: 'end', id: this.#id });
      });
    }
    body.resume();
  }
}

const REPORT_BYTES = 1024 * 1024;
const REPORT_MS = 10;

/**
 * A body written to its file as it comes, hashed first when it is the blob's partial, `limit` bytes at most: the
 * daemon fixed where the request ends when it made it, so the thread goes on alone, as fast as the disk takes it.
 */
class Sink {
  readonly #id: number;
  readonly #body: Readable;
  readonly #hash: Hash | undefined;
  readonly #disk: WriteBehind;
  readonly #onDone: () => void;
  readonly #limit: number;
  readonly #cut: boolean;
  #received = 0;
  /** Cut at its limit. */
  #reached = false;
  /** The body carried more than its limit. */
  #over = false;
  #diskWaiting = false;
  #diskError: unknown;
  #unreported = 0;
  readonly #heldTime = new HeldTime();
  #report: NodeJS.Timeout | undefined;

  constructor(
    id: number,
    body: Readable,
    file: BlobFile,
    sink: { hash: number | undefined; limit: number; cut: boolean },
    onDone: () => void,
  ) {
    this.#id = id;
    this.#body = body;
    this.#onDone = onDone;
    this.#limit = sink.limit;
    this.#cut = sink.cut;
    this.#hash = sink.hash === undefined ? undefined : hashes.get(sink.hash);
    this.#disk = new WriteBehind(file, (bytes) => this.#wrote(bytes));
    if (sink.hash !== undefined && this.#hash === undefined) {
      body.destroy();
      void this.#finish(new Error(`the blob thread has no hash ${sink.hash}`));
      return;
    }
    body.on('data', this.#take);
    finished(body, (error) => void this.#finish(error));
    body.resume();
  }

  /** The daemon is done with the body: it closes, and what was taken is written. */
  drop(): void {
    this.#body.destroy();
  }

  readonly #take = (chunk: Buffer) => {
    const room = this.#limit - this.#received;
    const piece = chunk.byteLength > room ? chunk.subarray(0, Math.max(0, room)) : chunk;
    if (piece.byteLength === 0) giveBack(chunk);
    else {
      this.#hash?.update(piece);
      this.#received += piece.byteLength;
      if (!this.#disk.add(piece)) this.#waitForDisk();
    }
    // Closed at once: what the registry sends until then is not wanted.
    if (this.#cut && this.#received === this.#limit) this.#reached = true;
    else if (chunk.byteLength > room) this.#over = true;
    else return;
    this.#body.off('data', this.#take);
    this.#body.destroy();
  };

  #waitForDisk(): void {
    this.#diskWaiting = true;
    this.#pause();
    this.#disk.next().then(
      () => {
        this.#diskWaiting = false;
        this.#resume();
      },
      // The write failed: the body goes, and #finish reports the disk's failure.
      (error: unknown) => {
        this.#diskError ??= error;
        this.#body.destroy();
      },
    );
  }

  #pause(): void {
    this.#body.pause();
    this.#heldTime.hold();
  }

  #resume(): void {
    if (this.#diskWaiting || this.#body.destroyed) return;
    this.#heldTime.release();
    this.#body.resume();
  }

  /**
   * Reports bytes on disk a megabyte at a time, or within REPORT_MS: every message wakes the daemon's loop, whose
   * answers to its API wait meanwhile.
   */
  #wrote(bytes: number): void {
    this.#unreported += bytes;
    if (this.#unreported >= REPORT_BYTES) this.#flushReport();
    else this.#report ??= setTimeout(() => this.#flushReport(), REPORT_MS);
  }

  #flushReport(): void {
    clearTimeout(this.#report);
    this.#report = undefined;
    if (this.#unreported === 0) return;
    post({ op: 'wrote', id: this.#id, bytes: this.#unreported, heldMs: this.#heldTime.take() });
    this.#unreported = 0;
  }

  async #finish(error: Error | null | undefined): Promise<void> {
    this.#body.off('data', this.#take);
    // Every byte hashed must be on disk before the daemon resumes or retries the blob.
    await this.#disk.flush().catch((e: unknown) => {
      this.#diskError ??= e;
    });
    this.#flushReport();
    this.#onDone();
    const closedHere = this.#reached || this.#over;
    const failure = this.#disk.failed ? (this.#diskError ?? error) : closedHere ? undefined : error;
    post({
      op: 'sunk',
      id: this.#id,
      ended: !failure && !closedHere,
      over: this.#over,
      error: failure ? serializeError(failure) : undefined,
      diskFailed: this.#disk.failed,
    });
  }
}
