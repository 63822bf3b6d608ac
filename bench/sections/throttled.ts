// Section 2: one large layer through a front that caps every blob response at 16 MB/s, as CDNs and cloud registries
// cap each connection. One connection per layer (skopeo) is bound by the cap; Dockhand's parallel Range requests are
// not. Interleaved round by round, each Dockhand round with a fresh daemon and data root.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildImage } from '../../test/rig/fixtures.ts';
import { startFront } from '../../test/rig/front.ts';
import { startRegistry } from '../../test/rig/registry.ts';
import { pushImage } from '../../test/rig/skopeo.ts';
import { Cleanup } from '../cleanup.ts';
import { syncDisks } from '../command.ts';
import { startDaemonProcess } from '../daemon-process.ts';
import { pullOk } from '../engine.ts';
import { SectionWriter } from '../report.ts';
import { skopeoCopyToOci } from '../skopeo-cli.ts';
import { mbPerSecond, ratio, seconds, spread, summarize } from '../stats.ts';
import { pushWarmupImage, warmUp } from '../warmup.ts';
import { MIB, rotated, type Section } from './context.ts';

const REPO = 'bench/throttled';
const TAG = '1';
const BYTES_PER_SECOND = 16_000_000;

export const throttledSection: Section = async ({ settings, work, say }) => {
  const out = new SectionWriter(
    `2. One ${settings.throttledSizeMiB} MiB layer through a front capping each connection at 16 MB/s`,
  );
  const built = await buildImage({ layers: [settings.throttledSizeMiB * MIB], seed: 11 }, { tag: TAG });
  const blobBytes = built.images[0]!.layers[0]!.size;
  const cleanup = new Cleanup();
  try {
    const registry = cleanup.add(await startRegistry({ auth: 'none' }));
    await pushImage({ layoutDir: built.layoutDir, tag: TAG, dest: `${registry.host}/${REPO}:${TAG}` });
    const warmup = await pushWarmupImage(registry.host);
    const front = cleanup.add(
      await startFront({
        target: registry.url,
        faults: [{ type: 'slow', bytesPerSecond: BYTES_PER_SECOND, pathIncludes: '/blobs/sha256:' }],
      }),
    );
    const source = `${front.host}/${REPO}`;

    const dockhandRuns: { ms: number; blobGets: number }[] = [];
    const skopeoRuns: number[] = [];
    const contenders = {
      dockhand: async (round: number) => {
        const dir = await work.fresh(`throttled-dockhand-${round}`);
        const daemon = await startDaemonProcess({ dir });
        try {
          await warmUp(daemon.socket, warmup);
          await syncDisks();
          front.reset();
          const started = performance.now();
          await pullOk(daemon.socket, source, TAG);
          const ms = performance.now() - started;
          const blobGets = front.requests().filter((r) => r.kind === 'blob' && r.method === 'GET').length;
          dockhandRuns.push({ ms, blobGets });
        } catch (error) {
          throw new Error(`${(error as Error).message}\n--- daemon log ---\n${daemon.logs()}`);
        } finally {
          await daemon.stop();
        }
      },
      skopeo: async (round: number) => {
        const dir = await work.fresh(`throttled-skopeo-${round}`);
        await syncDisks();
        const started = performance.now();
        await skopeoCopyToOci(`${source}:${TAG}`, join(dir, 'oci'), TAG, dir);
        skopeoRuns.push(performance.now() - started);
      },
    };
    for (let round = 0; round < settings.rounds; round++) {
      const order = rotated(['dockhand', 'skopeo'] as const, round);
      say(`throttled: round ${round + 1}/${settings.rounds} (${order.join(', ')})`);
      for (const name of order) await contenders[name](round);
    }
    const dockhandMs = summarize(dockhandRuns.map((r) => r.ms));
    const skopeoMs = summarize(skopeoRuns);
    const rate = (ms: number) => mbPerSecond(blobBytes, ms);
    out.line(
      `${settings.rounds} round(s), contenders rotated each round; the front throttles every blob GET ` +
        `(each response, so each connection) to ${BYTES_PER_SECOND / 1e6} MB/s. Median (min – max).`,
    );
    out.line();
    out.table(
      ['contender', 'wall', 'throughput (median)', 'blob GETs (Range requests included)'],
      [
        [
          'Dockhand (fresh daemon and data root, after a 1 MiB warm-up pull)',
          spread(dockhandMs, seconds),
          rate(dockhandMs.median),
          dockhandRuns.map((r) => r.blobGets).join(', '),
        ],
        [
          'skopeo copy docker:// → oci: (one connection)',
          spread(skopeoMs, seconds),
          rate(skopeoMs.median),
          '',
        ],
      ],
    );
    const speedup = skopeoMs.median / dockhandMs.median;
    out.check(
      'throttled: skopeo / Dockhand wall (medians)',
      `${ratio(speedup)}×`,
      '≥ 3×',
      speedup >= 3,
      `Dockhand ${spread(dockhandMs, seconds)}; skopeo ${spread(skopeoMs, seconds)}`,
    );
    out.record('bytes', blobBytes);
    out.record('dockhand', dockhandRuns);
    out.record('skopeoMs', skopeoRuns);
    return out.done();
  } finally {
    await cleanup.run();
  }
};
