// A large layer through a front that caps each connection, as CDNs do: the daemon fetches it in parallel ranges, and
// whatever the registry does with them (ignores Range, answers 200 to one range, cuts one range mid-way) the stored
// blob is the blob, verified against its one digest.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAST_RETRY, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { expectPullSucceeded, pullRaw, sha256File } from '../helpers/raw-pull.ts';
import { buildImage, type LayerInfo } from '../rig/fixtures.ts';
import { type Fault, type Front, type FrontRecord, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { pushImage } from '../rig/skopeo.ts';

const LAYER_BYTES = 24 * 1024 * 1024;
const BYTES_PER_SECOND = 8 * 1024 * 1024;

let registry: Registry;
let front: Front;
let layer: LayerInfo;
let daemon: TestDaemon | undefined;

beforeAll(async () => {
  const image = await buildImage({ layers: [LAYER_BYTES], seed: 41 }, { tag: '1' });
  layer = image.images[0]!.layers[0]!;
  registry = await startRegistry({ auth: 'none' });
  await pushImage({ layoutDir: image.layoutDir, tag: image.tag, dest: `${registry.host}/ranged:1` });
  front = await startFront({ target: registry.url });
});

beforeEach(async () => {
  await daemon?.close();
  daemon = await startTestDaemon({ retry: FAST_RETRY });
  front.reset();
});

afterAll(async () => {
  await daemon?.close();
  await front?.stop();
  await registry?.stop();
});

const throttled = (): Fault => ({
  type: 'slow',
  bytesPerSecond: BYTES_PER_SECOND,
  pathIncludes: layer.digest,
});

/** Pulls through the front with `faults`, checks the stored blob, and gives the layer's GETs. */
async function pullLayer(faults: Fault[]): Promise<FrontRecord[]> {
  await front.setFaults(faults);
  const outcome = await pullRaw(daemon!.socket, `${front.host}/ranged`, '1');
  expectPullSucceeded(outcome);
  const hex = layer.digest.slice('sha256:'.length);
  const stored = join(daemon!.dataRoot, 'oci', 'blobs', 'sha256', hex);
  expect(await sha256File(stored)).toBe(hex);
  expect(await readdir(join(daemon!.dataRoot, 'oci', 'ingest'))).toEqual([]);
  return front.requests().filter((r) => r.method === 'GET' && r.path.endsWith(layer.digest));
}

/** The byte ranges asked for, as [first, last] pairs. */
function asked(gets: FrontRecord[]): [number, number][] {
  return gets.map((r) => {
    const match = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? '');
    expect(match, `range header ${r.range}`).not.toBeNull();
    return [Number(match![1]), Number(match![2])];
  });
}

describe('a large layer behind a per-connection rate cap', () => {
  it('is fetched over several connections in disjoint ranges that cover it', async () => {
    const gets = await pullLayer([throttled()]);
    // A connection that did not pay may be closed before its answer (no status): none got the whole blob.
    expect(gets.filter((r) => r.status === 206).length).toBeGreaterThan(1);
    expect(gets.filter((r) => r.status === 200)).toEqual([]);
    // Each range was cut where the next one starts: the bytes served add up to the blob, none twice.
    expect(gets.reduce((sum, r) => sum + r.bytes, 0)).toBeGreaterThanOrEqual(layer.size);
    const starts = asked(gets)
      .map(([first]) => first)
      .sort((a, b) => a - b);
    expect(starts[0]).toBe(0);
    expect(new Set(starts).size).toBe(starts.length);
  });

  it('is fetched over one connection when the registry ignores Range', async () => {
    const gets = await pullLayer([throttled(), { type: 'ignore-range', pathIncludes: layer.digest }]);
    expect(gets).toHaveLength(1);
    expect(gets[0]?.status).toBe(200);
    expect(gets[0]?.bytes).toBe(layer.size);
  });

  it('still verifies when the registry answers 200 to the second range', async () => {
    const gets = await pullLayer([throttled(), { type: 'ignore-range', pathIncludes: layer.digest, nth: 2 }]);
    const whole = gets.filter((r) => r.status === 200);
    expect(whole).toHaveLength(1);
    expect(whole[0]?.faults).toContain('ignore-range');
    // The ranges stop and one plain request fetches the rest from where the partial is.
    expect(gets.at(-1)?.status).toBe(206);
    expect(gets.at(-1)?.range).toMatch(/^bytes=\d+-$/);
  });

  it('resumes every range when one is cut mid-way', async () => {
    const gets = await pullLayer([
      throttled(),
      { type: 'reset', afterBytes: 1024 * 1024, pathIncludes: layer.digest, nth: 2 },
    ]);
    const cut = gets.find((r) => r.faults.some((f) => f.startsWith('reset')));
    expect(cut).toBeDefined();
    // The retry asks for what is missing only: no range starts at 0 twice.
    expect(asked(gets).filter(([first]) => first === 0)).toHaveLength(1);
  });
});
