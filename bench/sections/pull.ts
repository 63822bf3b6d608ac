// Section 1: one big pull from a local no-auth registry. Dockhand (fresh data root, own process) against the floor
// (curl of the same layer blobs), skopeo copy to an OCI layout and plain node, interleaved round by round.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildImage, type LayerInfo } from '../../test/rig/fixtures.ts';
import { startRegistry } from '../../test/rig/registry.ts';
import { pushImage } from '../../test/rig/skopeo.ts';
import { Cleanup } from '../cleanup.ts';
import { run, syncDisks } from '../command.ts';
import { startDaemonProcess } from '../daemon-process.ts';
import { pullOk } from '../engine.ts';
import { readCpuTimes, readMemory, sampleRss, stealPercent } from '../proc-stats.ts';
import { SectionWriter } from '../report.ts';
import { skopeoCopyToOci } from '../skopeo-cli.ts';
import { mbPerSecond, megabytes, percent, ratio, seconds, spread, summarize } from '../stats.ts';
import { pushWarmupImage, type WarmupImage, warmUp } from '../warmup.ts';
import type { WorkDir } from '../workdir.ts';
import { MIB, rotated, type Section } from './context.ts';

const REPO = 'bench/big';
const TAG = '1';
const NODE_FLOOR = join(import.meta.dirname, '..', 'node-floor.ts');

interface Setup {
  work: WorkDir;
  /** http://host:port of the registry. */
  registryUrl: string;
  registryHost: string;
  layers: LayerInfo[];
  warmup: WarmupImage;
}

interface DockhandRun {
  ms: number;
  /** VmRSS once the daemon answered /_ping. */
  rssStarted: number;
  warmupMs: number;
  /** VmRSS after the warm-up pull, right before the measured one. */
  rssBefore: number;
  rssPeak: number;
  samples: number;
}

interface CurlRun {
  ms: number;
  /** The `sync` right after, which flushes what curl left in the page cache. */
  syncMs: number;
}

const blobUrl = (setup: Setup, layer: LayerInfo) => `${setup.registryUrl}/v2/${REPO}/blobs/${layer.digest}`;

/** Gives `body` a fresh folder on the bench disk, synced beforehand and removed afterwards. */
async function inFreshDir<T>(setup: Setup, name: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await setup.work.fresh(name);
  try {
    await syncDisks();
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function dockhand(setup: Setup, round: number): Promise<DockhandRun> {
  const dir = await setup.work.fresh(`pull-dockhand-${round}`);
  const daemon = await startDaemonProcess({ dir });
  try {
    const rssStarted = readMemory(daemon.pid).rss;
    const warmupStarted = performance.now();
    await warmUp(daemon.socket, setup.warmup);
    const warmupMs = performance.now() - warmupStarted;
    await syncDisks();
    const before = readMemory(daemon.pid);
    const sampler = sampleRss(daemon.pid);
    const started = performance.now();
    try {
      await pullOk(daemon.socket, `${setup.registryHost}/${REPO}`, TAG);
    } catch (error) {
      sampler.stop();
      throw error;
    }
    const ms = performance.now() - started;
    const sampled = sampler.stop();
    return {
      ms,
      rssStarted,
      warmupMs,
      rssBefore: before.rss,
      rssPeak: sampled.peak,
      samples: sampled.samples,
    };
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- daemon log ---\n${daemon.logs()}`);
  } finally {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function curl(setup: Setup, round: number): Promise<CurlRun> {
  return inFreshDir(setup, `pull-curl-${round}`, async (dir) => {
    const started = performance.now();
    for (const layer of setup.layers) {
      await run('curl', ['-s', '-f', '-o', join(dir, layer.digest.replace(':', '-')), blobUrl(setup, layer)]);
    }
    const ms = performance.now() - started;
    await syncDisks();
    return { ms, syncMs: performance.now() - started - ms };
  });
}

function skopeo(setup: Setup, round: number): Promise<number> {
  return inFreshDir(setup, `pull-skopeo-${round}`, async (dir) => {
    const started = performance.now();
    await skopeoCopyToOci(`${setup.registryHost}/${REPO}:${TAG}`, join(dir, 'oci'), TAG, dir);
    return performance.now() - started;
  });
}

function plainNode(setup: Setup, round: number): Promise<number> {
  return inFreshDir(setup, `pull-node-${round}`, async (dir) => {
    const urls = setup.layers.map((layer) => blobUrl(setup, layer));
    const stdout = await run(process.execPath, [
      '--import',
      import.meta.resolve('tsx'),
      NODE_FLOOR,
      dir,
      ...urls,
    ]);
    const parsed = JSON.parse(stdout) as { ms?: unknown };
    if (typeof parsed.ms !== 'number')
      throw new Error(`node-floor: no "ms" number in ${stdout.slice(0, 200)}`);
    return parsed.ms;
  });
}

export const pullSection: Section = async ({ settings, work, say }) => {
  const out = new SectionWriter(
    `1. Pull of a ${settings.sizeMiB} MiB image (4 incompressible layers) from a local no-auth registry`,
  );
  const layerBytes = (settings.sizeMiB / 4) * MIB;
  say(`pull: building the ${settings.sizeMiB} MiB image (cached after the first run)`);
  const image = await buildImage(
    { layers: [layerBytes, layerBytes, layerBytes, layerBytes], seed: 7 },
    { tag: TAG },
  );
  const layers = image.images[0]!.layers;
  const blobBytes = layers.reduce((sum, layer) => sum + layer.size, 0);
  const cleanup = new Cleanup();
  try {
    const registry = cleanup.add(await startRegistry({ auth: 'none' }));
    say('pull: pushing it to the registry');
    await pushImage({ layoutDir: image.layoutDir, tag: TAG, dest: `${registry.host}/${REPO}:${TAG}` });
    const warmup = await pushWarmupImage(registry.host);
    const setup: Setup = { work, registryUrl: registry.url, registryHost: registry.host, layers, warmup };

    const dockhandRuns: DockhandRun[] = [];
    const curlRuns: CurlRun[] = [];
    const skopeoRuns: number[] = [];
    const nodeRuns: number[] = [];
    const contenders = {
      dockhand: async (round: number) => {
        dockhandRuns.push(await dockhand(setup, round));
      },
      curl: async (round: number) => {
        curlRuns.push(await curl(setup, round));
      },
      skopeo: async (round: number) => {
        skopeoRuns.push(await skopeo(setup, round));
      },
      node: async (round: number) => {
        nodeRuns.push(await plainNode(setup, round));
      },
    };
    const cpuFrom = readCpuTimes();
    for (let round = 0; round < settings.rounds; round++) {
      const order = rotated(['dockhand', 'curl', 'skopeo', 'node'] as const, round);
      say(`pull: round ${round + 1}/${settings.rounds} (${order.join(', ')})`);
      for (const name of order) await contenders[name](round);
    }
    const steal = stealPercent(cpuFrom, readCpuTimes());

    const dockhandMs = summarize(dockhandRuns.map((r) => r.ms));
    const curlMs = summarize(curlRuns.map((r) => r.ms));
    const curlSyncMs = summarize(curlRuns.map((r) => r.ms + r.syncMs));
    const skopeoMs = summarize(skopeoRuns);
    const nodeMs = summarize(nodeRuns);
    const growth = summarize(dockhandRuns.map((r) => r.rssPeak - r.rssBefore));
    const rate = (ms: number) => mbPerSecond(blobBytes, ms);

    out.line(
      `${layers.length} layer blobs, ${megabytes(blobBytes)} in total; ${settings.rounds} round(s), contenders ` +
        'rotated each round; `sync` before each measurement (not timed). Median (min – max).',
    );
    out.line();
    out.table(
      ['contender', 'wall', 'throughput (median)'],
      [
        [
          'Dockhand (fresh daemon and data root, after a 1 MiB warm-up pull)',
          spread(dockhandMs, seconds),
          rate(dockhandMs.median),
        ],
        ['curl, 4 blobs one after the other, to files', spread(curlMs, seconds), rate(curlMs.median)],
        [
          'curl as above, then `sync` (Dockhand fsyncs every blob)',
          spread(curlSyncMs, seconds),
          rate(curlSyncMs.median),
        ],
        ['skopeo copy docker:// → oci:', spread(skopeoMs, seconds), rate(skopeoMs.median)],
        [
          'plain node: undici → file stream + sha256, fsync per blob, one after the other (bench/node-floor.ts)',
          spread(nodeMs, seconds),
          rate(nodeMs.median),
        ],
      ],
    );
    out.line(
      'Dockhand daemon memory, VmRSS sampled every 50 ms: after start; after a 1 MiB warm-up pull (the first pull ' +
        'of a process compiles the pull path); peak during the measured pull; growth = peak − before the pull.',
    );
    out.line();
    out.table(
      [
        'round',
        'Dockhand',
        'curl',
        'skopeo',
        'plain node',
        'warm-up pull',
        'VmRSS after start',
        'before the pull',
        'peak during it',
        'growth',
        'samples',
      ],
      dockhandRuns.map((r, i) => [
        String(i + 1),
        seconds(r.ms),
        seconds(curlRuns[i]!.ms),
        seconds(skopeoRuns[i]!),
        seconds(nodeRuns[i]!),
        seconds(r.warmupMs),
        megabytes(r.rssStarted),
        megabytes(r.rssBefore),
        megabytes(r.rssPeak),
        megabytes(r.rssPeak - r.rssBefore),
        String(r.samples),
      ]),
    );
    out.line(`CPU steal during this section: ${percent(steal)} (from /proc/stat)`);
    out.line(
      `For information: Dockhand / (curl+sync) ${ratio(dockhandMs.median / curlSyncMs.median)}, ` +
        `Dockhand / plain node ${ratio(dockhandMs.median / nodeMs.median)}.`,
    );
    out.line();
    const dockhandOverCurl = dockhandMs.median / curlMs.median;
    const skopeoOverDockhand = skopeoMs.median / dockhandMs.median;
    out.check('pull: Dockhand / curl (medians)', ratio(dockhandOverCurl), '≤ 1.3', dockhandOverCurl <= 1.3);
    out.check(
      'pull: skopeo / Dockhand (medians)',
      ratio(skopeoOverDockhand),
      '≥ 2.5',
      skopeoOverDockhand >= 2.5,
    );
    out.check(
      'pull: daemon RSS growth (peak VmRSS − before, max of rounds)',
      megabytes(growth.max),
      '≤ 64 MB',
      growth.max <= 64e6,
    );
    return out.done();
  } finally {
    await cleanup.run();
  }
};
