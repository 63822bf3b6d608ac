// Section 1: one big pull from a local no-auth registry. Dockhand (fresh data root, own process) against the floor
// (four parallel curls of the same layer blobs), skopeo copy to an OCI layout, plain node and dockerd when it is
// installed, interleaved round by round. Dockhand pulls twice a round, each time with a fresh daemon: once timed with
// nothing else running, as every other contender is, and once with the daemon's memory sampled and GET /_ping asked
// all along. The probe is a second client on the same two cores (100 requests a second, answered by this process):
// it slowed the probed pull by 15-30 % on this machine, whoever answered its pings (the daemon, or a bare fastify
// beside it), so a probed wall is not compared with skopeo's, which nothing probes. The floor for that latency: a
// third pull a round, with a bare fastify beside the daemon probed instead of it.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildImage, type LayerInfo } from '../../test/rig/fixtures.ts';
import { startRegistry } from '../../test/rig/registry.ts';
import { pushImage } from '../../test/rig/skopeo.ts';
import { Cleanup } from '../cleanup.ts';
import { run, syncDisks } from '../command.ts';
import { startDaemonProcess } from '../daemon-process.ts';
import { DOCKERD, dockerdInstalled, startDockerd } from '../dockerd-process.ts';
import { pullOk, removeImage } from '../engine.ts';
import { startPingFloor } from '../ping-floor-process.ts';
import { pingWhile } from '../ping-probe.ts';
import { readCpuTimes, readMemory, sampleRss, stealPercent } from '../proc-stats.ts';
import { SectionWriter } from '../report.ts';
import { skopeoCopyToOci } from '../skopeo-cli.ts';
import {
  mbPerSecond,
  mebibytes,
  megabytes,
  millis,
  percent,
  percentile,
  ratio,
  seconds,
  spread,
  summarize,
} from '../stats.ts';
import { pushWarmupImage, type WarmupImage, warmUp } from '../warmup.ts';
import type { WorkDir } from '../workdir.ts';
import { MIB, rotated, type Section } from './context.ts';

const REPO = 'bench/big';
const TAG = '1';
const NODE_FLOOR = join(import.meta.dirname, '..', 'node-floor.ts');
// When the daemon's memory is read after the pull: shortly after, and once idle (V8 gives memory back to the system
// only after the process has been idle for a few seconds).
const SOON_MS = 2000;
const SETTLE_MS = 10_000;
const MIB_TARGET = (mib: number) => mib * MIB;

interface Setup {
  work: WorkDir;
  /** http://host:port of the registry. */
  registryUrl: string;
  registryHost: string;
  layers: LayerInfo[];
  warmup: WarmupImage;
}

interface DockhandRun {
  /** The wall of the pull with the probe running. */
  ms: number;
  /** VmRSS once the daemon answered /_ping. */
  rssStarted: number;
  warmupMs: number;
  /** VmRSS after the warm-up pull, right before the measured one. */
  rssBefore: number;
  rssPeak: number;
  samples: number;
  /** VmRSS SOON_MS after the pull. */
  rssSoonAfter: number;
  /** VmRSS SETTLE_MS after the pull. */
  rssIdleAfter: number;
  /** GET /_ping latencies during the pull, ms. */
  pings: number[];
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

/** A fresh daemon, its VmRSS once it answers, after the warm-up pull: `body` pulls, then the daemon stops. */
async function withWarmDaemon<T>(
  setup: Setup,
  name: string,
  body: (daemon: { pid: number; socket: string }, rssStarted: number, warmupMs: number) => Promise<T>,
): Promise<T> {
  const dir = await setup.work.fresh(name);
  const daemon = await startDaemonProcess({ dir });
  try {
    const rssStarted = readMemory(daemon.pid).rss;
    const warmupStarted = performance.now();
    await warmUp(daemon.socket, setup.warmup);
    const warmupMs = performance.now() - warmupStarted;
    await syncDisks();
    return await body(daemon, rssStarted, warmupMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- daemon log ---\n${daemon.logs()}`);
  } finally {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The measured image pulled into `socket`'s daemon; its wall in ms. */
async function pullBig(setup: Setup, socket: string): Promise<number> {
  const started = performance.now();
  await pullOk(socket, `${setup.registryHost}/${REPO}`, TAG);
  return performance.now() - started;
}

/** The timed pull: nothing else runs meanwhile, as for every other contender. */
function dockhandTimed(setup: Setup, round: number): Promise<number> {
  return withWarmDaemon(setup, `pull-dockhand-timed-${round}`, (daemon) => pullBig(setup, daemon.socket));
}

/** GET /_ping latencies of `floorSocket` (a bare fastify) while a daemon pulls: what the machine allows. */
function floorProbed(setup: Setup, round: number, floorSocket: string): Promise<number[]> {
  return withWarmDaemon(setup, `pull-dockhand-floor-${round}`, async (daemon) => {
    const { pings } = await pingWhile(floorSocket, () => pullBig(setup, daemon.socket));
    return pings;
  });
}

/** The probed pull: the daemon's VmRSS sampled, and GET /_ping asked, all along; VmRSS again once idle. */
function dockhandProbed(setup: Setup, round: number): Promise<DockhandRun> {
  return withWarmDaemon(setup, `pull-dockhand-${round}`, async (daemon, rssStarted, warmupMs) => {
    const before = readMemory(daemon.pid);
    const sampler = sampleRss(daemon.pid);
    let probed: { result: number; pings: number[] };
    try {
      probed = await pingWhile(daemon.socket, () => pullBig(setup, daemon.socket));
    } catch (error) {
      sampler.stop();
      throw error;
    }
    const sampled = sampler.stop();
    const { result: ms, pings } = probed;
    await sleep(SOON_MS);
    const rssSoonAfter = readMemory(daemon.pid).rss;
    await sleep(SETTLE_MS - SOON_MS);
    return {
      ms,
      rssStarted,
      warmupMs,
      rssBefore: before.rss,
      rssPeak: sampled.peak,
      samples: sampled.samples,
      rssSoonAfter,
      rssIdleAfter: readMemory(daemon.pid).rss,
      pings,
    };
  });
}

function curl(setup: Setup, round: number): Promise<CurlRun> {
  return inFreshDir(setup, `pull-curl-${round}`, async (dir) => {
    const started = performance.now();
    await Promise.all(
      setup.layers.map((layer) =>
        run('curl', ['-s', '-f', '-o', join(dir, layer.digest.replace(':', '-')), blobUrl(setup, layer)]),
      ),
    );
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

/** Pulls with a dockerd kept for the whole section, removing the image after each round. */
async function dockerd(socket: string, setup: Setup): Promise<number> {
  await syncDisks();
  const started = performance.now();
  await pullOk(socket, `${setup.registryHost}/${REPO}`, TAG);
  const ms = performance.now() - started;
  await removeImage(socket, `${setup.registryHost}/${REPO}:${TAG}`);
  return ms;
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
    const floor = cleanup.add(await startPingFloor(await work.fresh('pull-floor')));
    const dockerdSocket = dockerdInstalled()
      ? cleanup.add(await startDockerd(await work.fresh('pull-dockerd'))).socket
      : undefined;

    const dockhandRuns: DockhandRun[] = [];
    const dockhandTimedRuns: number[] = [];
    const floorPingRuns: number[][] = [];
    const curlRuns: CurlRun[] = [];
    const skopeoRuns: number[] = [];
    const nodeRuns: number[] = [];
    const dockerdRuns: number[] = [];
    const contenders = {
      dockhand: async (round: number) => {
        dockhandTimedRuns.push(await dockhandTimed(setup, round));
      },
      dockhandProbed: async (round: number) => {
        dockhandRuns.push(await dockhandProbed(setup, round));
      },
      floorProbed: async (round: number) => {
        floorPingRuns.push(await floorProbed(setup, round, floor.socket));
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
      dockerd: async () => {
        if (dockerdSocket) dockerdRuns.push(await dockerd(dockerdSocket, setup));
      },
    };
    const cpuFrom = readCpuTimes();
    for (let round = 0; round < settings.rounds; round++) {
      const order = rotated(
        ['dockhand', 'curl', 'skopeo', 'node', 'dockerd', 'dockhandProbed', 'floorProbed'] as const,
        round,
      );
      say(`pull: round ${round + 1}/${settings.rounds} (${order.join(', ')})`);
      for (const name of order) await contenders[name](round);
    }
    const steal = stealPercent(cpuFrom, readCpuTimes());

    const dockhandMs = summarize(dockhandTimedRuns);
    const probedMs = summarize(dockhandRuns.map((r) => r.ms));
    const curlMs = summarize(curlRuns.map((r) => r.ms));
    const curlSyncMs = summarize(curlRuns.map((r) => r.ms + r.syncMs));
    const skopeoMs = summarize(skopeoRuns);
    const nodeMs = summarize(nodeRuns);
    const peak = summarize(dockhandRuns.map((r) => r.rssPeak));
    const idleStarted = summarize(dockhandRuns.map((r) => r.rssStarted));
    const idleAfter = summarize(dockhandRuns.map((r) => r.rssIdleAfter));
    const pingP99 = summarize(dockhandRuns.map((r) => percentile(r.pings, 99)));
    const allPings = dockhandRuns.flatMap((r) => r.pings);
    const floorPings = floorPingRuns.flat();
    const floorP99 = summarize(floorPingRuns.map((pings) => percentile(pings, 99)));
    const rate = (ms: number) => mbPerSecond(blobBytes, ms);

    out.line(
      `${layers.length} layer blobs, ${megabytes(blobBytes)} in total; ${settings.rounds} round(s), contenders ` +
        'rotated each round; `sync` before each measurement (not timed). Median (min – max).',
    );
    out.line();
    const rows = [
      [
        'Dockhand (fresh daemon and data root, after a 1 MiB warm-up pull)',
        spread(dockhandMs, seconds),
        rate(dockhandMs.median),
      ],
      [
        'Dockhand as above, its VmRSS sampled and GET /_ping asked meanwhile (not compared)',
        spread(probedMs, seconds),
        rate(probedMs.median),
      ],
      ['curl × 4 in parallel, one blob each, to files', spread(curlMs, seconds), rate(curlMs.median)],
      [
        'curl as above, then `sync` (Dockhand fsyncs every blob)',
        spread(curlSyncMs, seconds),
        rate(curlSyncMs.median),
      ],
      ['skopeo copy docker:// → oci:', spread(skopeoMs, seconds), rate(skopeoMs.median)],
      [
        'plain node: undici → file stream + sha256, fsync per blob, 4 in parallel (bench/node-floor.ts)',
        spread(nodeMs, seconds),
        rate(nodeMs.median),
      ],
    ];
    if (dockerdRuns.length > 0) {
      const dockerdMs = summarize(dockerdRuns);
      rows.push([
        'dockerd (vfs; also extracts the layers)',
        spread(dockerdMs, seconds),
        rate(dockerdMs.median),
      ]);
    }
    out.table(['contender', 'wall', 'throughput (median)'], rows);
    if (!dockerdSocket) out.line(`dockerd is not installed (${DOCKERD} does not exist): not measured.`);
    out.line(
      'Dockhand daemon, VmRSS sampled every 50 ms: after start (idle); after a 1 MiB warm-up pull; peak during the ' +
        `measured pull; ${SOON_MS / 1000} s and ${SETTLE_MS / 1000} s after it (idle). GET /_ping one at a time (10 ms apart) during the pull.`,
    );
    out.line();
    out.table(
      [
        'round',
        'Dockhand',
        'probed',
        'curl × 4',
        'skopeo',
        'plain node',
        'warm-up pull',
        'VmRSS after start',
        'before the pull',
        'peak during it',
        `${SOON_MS / 1000} s after`,
        `${SETTLE_MS / 1000} s after`,
        '/_ping p50',
        '/_ping p99',
        '/_ping max',
        'pings',
        'floor /_ping p99',
      ],
      dockhandRuns.map((r, i) => [
        String(i + 1),
        seconds(dockhandTimedRuns[i]!),
        seconds(r.ms),
        seconds(curlRuns[i]!.ms),
        seconds(skopeoRuns[i]!),
        seconds(nodeRuns[i]!),
        seconds(r.warmupMs),
        mebibytes(r.rssStarted),
        mebibytes(r.rssBefore),
        mebibytes(r.rssPeak),
        mebibytes(r.rssSoonAfter),
        mebibytes(r.rssIdleAfter),
        millis(percentile(r.pings, 50)),
        millis(percentile(r.pings, 99)),
        millis(Math.max(...r.pings)),
        String(r.pings.length),
        millis(percentile(floorPingRuns[i]!, 99)),
      ]),
    );
    out.line(`CPU steal during the rounds: ${percent(steal)} (from /proc/stat)`);
    out.line(
      `For information: Dockhand / (curl+sync) ${ratio(dockhandMs.median / curlSyncMs.median)}, ` +
        `Dockhand / plain node ${ratio(dockhandMs.median / nodeMs.median)}.`,
    );
    out.line();
    const dockhandWall = `Dockhand ${spread(dockhandMs, seconds)}`;
    out.check(
      'pull: Dockhand / skopeo wall (medians)',
      ratio(dockhandMs.median / skopeoMs.median),
      '≤ 0.85',
      dockhandMs.median / skopeoMs.median <= 0.85,
      `${dockhandWall}; skopeo ${spread(skopeoMs, seconds)}`,
    );
    out.check(
      'pull: Dockhand / 4 parallel curls wall (medians)',
      ratio(dockhandMs.median / curlMs.median),
      '≤ 2.0',
      dockhandMs.median / curlMs.median <= 2.0,
      `${dockhandWall}; curl × 4 ${spread(curlMs, seconds)}`,
    );
    out.check(
      'pull: daemon peak VmRSS during the pull (max of rounds)',
      mebibytes(peak.max),
      '≤ 110 MiB',
      peak.max <= MIB_TARGET(110),
      `peak ${spread(peak, mebibytes)}`,
    );
    out.check(
      'pull: daemon idle VmRSS after start (max of rounds)',
      mebibytes(idleStarted.max),
      '≤ 80 MiB',
      idleStarted.max <= MIB_TARGET(80),
      `after start ${spread(idleStarted, mebibytes)}`,
    );
    out.check(
      `pull: daemon idle VmRSS ${SETTLE_MS / 1000} s after the pull (max of rounds)`,
      mebibytes(idleAfter.max),
      '≤ 80 MiB',
      idleAfter.max <= MIB_TARGET(80),
      `after the pull ${spread(idleAfter, mebibytes)}`,
    );
    out.check(
      'pull: GET /_ping p99 while the pull runs (all rounds pooled)',
      millis(percentile(allPings, 99)),
      '≤ 10 ms',
      percentile(allPings, 99) <= 10,
      `per-round p99 ${spread(pingP99, millis)}; ${allPings.length} pings; floor (a bare fastify pinged while ` +
        `Dockhand pulls) ${millis(percentile(floorPings, 99))} pooled, per round ${spread(floorP99, millis)}`,
    );
    out.record('bytes', blobBytes);
    out.record('dockhandMs', dockhandTimedRuns);
    out.record('dockhandProbed', dockhandRuns);
    out.record('floorPings', floorPingRuns);
    out.record('curlParallel', curlRuns);
    out.record('skopeoMs', skopeoRuns);
    out.record('plainNodeMs', nodeRuns);
    out.record('dockerdMs', dockerdRuns);
    out.record('stealPercent', steal);
    return out.done();
  } finally {
    await cleanup.run();
  }
};
