// The ranged download's controller against registries in process: one that caps each connection (more connections
// pay) and one whose bandwidth all connections share, of one blob or of several (they do not: growth stops). Ranges
// are asked for a piece at a time, and no byte is ever fetched twice.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ContentStore } from '../../../daemon/store/content-store.ts';
import type { OpenRange } from '../../../daemon/store/ranged-download.ts';
import { blob, checkAndRemoveRoots, tempRoot } from './helpers.ts';

afterAll(async () => {
  expect(await checkAndRemoveRoots()).toEqual([]);
});

const MIB = 1024 * 1024;
const CHUNK = 64 * 1024;
const SHARED_CATCH_UP_MS = 20;

interface Served {
  start: number;
  end: number;
  bytes: number;
}

/** From `afterMs` on, the connections opened before then run at `rate` of the cap (their route got congested). */
interface Dip {
  afterMs: number;
  rate: number;
}

/** When a bandwidth all connections share is free again (performance.now()). */
interface Bottleneck {
  free: number;
}

/**
 * A registry serving `bytes` at `bytesPerSecond`, per connection, or shared by all connections through `shared`.
 * Every range it was asked for is recorded with the bytes it sent.
 */
function throttledRegistry(bytes: Buffer, bytesPerSecond: number, shared?: Bottleneck, dip?: Dip) {
  const served: Served[] = [];
  const began = performance.now();
  let open = 0;
  let peak = 0;
  const openRange: OpenRange = async (start, end, signal) => {
    const record: Served = { start, end, bytes: 0 };
    served.push(record);
    peak = Math.max(peak, ++open);
    const opened = performance.now() - began;
    let at = start;
    let free = 0;
    let timer: NodeJS.Timeout | undefined;
    const body = new Readable({
      read() {
        if (at >= end) {
          this.push(null);
          return;
        }
        const chunk = bytes.subarray(at, Math.min(at + CHUNK, end));
        const now = performance.now();
        // A shared link's time is not lost to a timer that fires late (a loaded machine): its queue lets the bytes
        // through up to SHARED_CATCH_UP_MS behind, so more connections cannot hide the lateness and seem to pay.
        const slot = shared ? Math.max(now - SHARED_CATCH_UP_MS, shared.free) : Math.max(now, free);
        const dipped = dip !== undefined && opened < dip.afterMs && now - began >= dip.afterMs;
        const rate = dipped ? bytesPerSecond * dip.rate : bytesPerSecond;
        const ready = slot + (chunk.byteLength / rate) * 1000;
        if (shared) shared.free = ready;
        else free = ready;
        timer = setTimeout(() => {
          at += chunk.byteLength;
          record.bytes += chunk.byteLength;
          this.push(chunk);
        }, ready - now);
      },
      destroy(error, callback) {
        clearTimeout(timer);
        open--;
        callback(error);
      },
    });
    signal.addEventListener('abort', () => body.destroy(), { once: true });
    return { body, start, rangeable: true, whole: false };
  };
  return { openRange, served, peak: () => peak };
}

/** Fetches blobs of `sizes` at once into one store, each from its own registry; the ranges each was asked for. */
async function fetchAllInRanges(sizes: number[], bytesPerSecond: number, shared?: Bottleneck, dip?: Dip) {
  const store = await ContentStore.open(await tempRoot());
  const plain = () => Promise.reject(new Error('the plain request is not expected'));
  try {
    const fetched = await Promise.all(
      sizes.map(async (size, i) => {
        const expected = blob(size, 5 + i);
        const registry = throttledRegistry(expected.bytes, bytesPerSecond, shared, dip);
        const result = await store.fetchBlob(expected, plain, { openRange: registry.openRange });
        expect(result.status).toBe('fetched');
        expect(await store.has(expected.digest)).toBe(true);
        return { served: registry.served, transferred: result.transferred, connections: registry.peak() };
      }),
    );
    expect(await readdir(join(store.root, 'oci', 'ingest'))).toEqual([]);
    return fetched;
  } finally {
    await store.close();
  }
}

async function fetchInRanges(size: number, bytesPerSecond: number, shared?: Bottleneck, dip?: Dip) {
  const [fetched] = await fetchAllInRanges([size], bytesPerSecond, shared, dip);
  return fetched!;
}

/** Keeps the event loop busy about 90% of the time until stopped. */
function busyLoop(): () => void {
  const timer = setInterval(() => {
    const until = performance.now() + 18;
    while (performance.now() < until);
  }, 20);
  return () => clearInterval(timer);
}

describe('fetching a blob in ranges', () => {
  it('adds connections while each keeps its rate (a per-connection cap)', async () => {
    const size = 16 * MIB;
    const { served, connections } = await fetchInRanges(size, 2 * MIB);
    expect(connections).toBeGreaterThanOrEqual(2);
    // The pieces asked for tile the blob: each one starts where another's bytes end, none twice.
    const starts = served.map((s) => s.start).sort((a, b) => a - b);
    expect(starts[0]).toBe(0);
    expect(new Set(starts).size).toBe(starts.length);
    expect(served.reduce((sum, s) => sum + s.bytes, 0)).toBe(size);
  });

  it('stops adding connections when they share one bottleneck, fetching nothing twice', async () => {
    const size = 48 * MIB;
    const { served, transferred, connections } = await fetchInRanges(size, 16 * MIB, {
      free: performance.now(),
    });
    expect(connections).toBe(2);
    expect(served.reduce((sum, s) => sum + s.bytes, 0)).toBe(size);
    expect(transferred).toBe(size);
  });

  it('keeps a growth step that paid when the connections slow down later', async () => {
    // 2 connections at about 0.3 s, 4 at 0.6 s, each step judged and kept one window (0.25 s) after its connections
    // streamed; the first two slow down at 2 s. Ranges that have run for a second by then hold their bytes: giving
    // them back would fetch those bytes again.
    const size = 24 * MIB;
    const { served, connections } = await fetchInRanges(size, 4 * MIB, undefined, {
      afterMs: 2000,
      rate: 0.3,
    });
    expect(connections).toBeGreaterThanOrEqual(4);
    expect(served.reduce((sum, s) => sum + s.bytes, 0)).toBe(size);
  });

  it('adds connections to every blob when each connection has its own cap, one step at a time', async () => {
    const size = 16 * MIB;
    const fetched = await fetchAllInRanges([size, size], 2 * MIB);
    for (const { served, connections } of fetched) {
      expect(connections).toBeGreaterThanOrEqual(2);
      expect(served.reduce((sum, s) => sum + s.bytes, 0)).toBe(size);
    }
  });

  it('tries one split for all blobs when they share one bottleneck, and stops there', async () => {
    // Seen from one blob, a connection it adds keeps its rate (it takes bandwidth from the other blobs), so the
    // step is judged by what it adds to every transfer of the process.
    const size = 32 * MIB;
    const fetched = await fetchAllInRanges([size, size, size], 24 * MIB, { free: performance.now() });
    const connections = fetched.reduce((sum, f) => sum + f.connections, 0);
    expect(connections).toBeLessThanOrEqual(fetched.length + 1);
    for (const { served, transferred } of fetched) {
      expect(served.reduce((sum, s) => sum + s.bytes, 0)).toBe(size);
      expect(transferred).toBe(size);
    }
  });

  it('adds no connection while the event loop is busy (our CPU is the bottleneck)', async () => {
    const stop = busyLoop();
    try {
      const { connections } = await fetchInRanges(17 * MIB, 8 * MIB);
      expect(connections).toBe(1);
    } finally {
      stop();
    }
  });
});
