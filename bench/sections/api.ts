// Section 4: the cheap API calls under load. GET /_ping and GET /images/json with 100 distinct images in the store,
// autocannon with 50 connections for 5 s each; dockerd measured the same way when it is installed, and a bare
// fastify answering /_ping as the floor of this machine and load generator.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Client } from 'undici';
import { buildImage } from '../../test/rig/fixtures.ts';
import { startRegistry } from '../../test/rig/registry.ts';
import { pushImage } from '../../test/rig/skopeo.ts';
import { Cleanup } from '../cleanup.ts';
import { startDaemonProcess } from '../daemon-process.ts';
import { DOCKERD, dockerdInstalled, startDockerd } from '../dockerd-process.ts';
import { countImages, pullOk } from '../engine.ts';
import { startPingFloor } from '../ping-floor-process.ts';
import { clockTicksPerSecond, readProcessCpuTicks } from '../proc-stats.ts';
import { seedVariants } from '../registry-seed.ts';
import { SectionWriter } from '../report.ts';
import { millis, percent, seconds, spread, summarize } from '../stats.ts';
import type { Section } from './context.ts';

const IMAGES = 100;
const CONNECTIONS = 50;
const DURATION_S = 5;
// Each server and endpoint gets this much load, unmeasured, before its first round: V8 compiles the hot path.
const WARMUP_S = 1;
const SEED_CONCURRENCY = 4;
const REPO = 'bench/api';

type Endpoint = '/_ping' | '/images/json';

interface Engine {
  name: string;
  socket: string;
  pid: number;
  endpoints: readonly Endpoint[];
}

interface Load {
  reqPerSec: number;
  p50: number;
  p99: number;
  /** CPU time of the server process over the run, in % of one core. */
  serverCpu: number;
  /** CPU time of the bench process (autocannon) over the run, in % of one core. */
  clientCpu: number;
  /** Non-2xx answers, connection errors and timeouts. */
  bad: number;
}

async function warm(engine: Engine, path: Endpoint): Promise<void> {
  await autocannon({
    url: `http://localhost${path}`,
    socketPath: engine.socket,
    connections: CONNECTIONS,
    duration: WARMUP_S,
  });
}

/** GET /version's Version, e.g. 20.10.24+dfsg1 for Debian's dockerd. */
async function serverVersion(socket: string): Promise<string> {
  const client = new Client('http://localhost', { socketPath: socket });
  try {
    const response = await client.request({ method: 'GET', path: '/version' });
    const body = (await response.body.json()) as { Version?: unknown };
    return typeof body.Version === 'string' ? body.Version : 'unknown';
  } finally {
    await client.close().catch(() => {});
  }
}

async function load(engine: Engine, path: Endpoint): Promise<Load> {
  const ticksBefore = readProcessCpuTicks(engine.pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const result = await autocannon({
    url: `http://localhost${path}`,
    socketPath: engine.socket,
    connections: CONNECTIONS,
    duration: DURATION_S,
  });
  const elapsedSeconds = (performance.now() - started) / 1000;
  const serverSeconds = (readProcessCpuTicks(engine.pid) - ticksBefore) / clockTicksPerSecond();
  const client = process.cpuUsage(clientBefore);
  return {
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    serverCpu: (serverSeconds / elapsedSeconds) * 100,
    clientCpu: ((client.user + client.system) / 1e6 / elapsedSeconds) * 100,
    bad: result.non2xx + result.errors + result.timeouts,
  };
}

/** Pulls every tag, a few at a time. */
async function pullAll(socket: string, image: string, tags: readonly string[]): Promise<void> {
  const queue = [...tags];
  const worker = async () => {
    for (let tag = queue.shift(); tag !== undefined; tag = queue.shift()) await pullOk(socket, image, tag);
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
}

export const apiSection: Section = async ({ settings, work, say }) => {
  const out = new SectionWriter(
    `4. API: GET /_ping and GET /images/json (${IMAGES} images), autocannon ${CONNECTIONS} connections × ${DURATION_S} s`,
  );
  const cleanup = new Cleanup();
  try {
    const registry = cleanup.add(await startRegistry({ auth: 'none' }));
    const base = await buildImage({ layers: [64 * 1024], seed: 31 }, { tag: 'base' });
    await pushImage({ layoutDir: base.layoutDir, tag: 'base', dest: `${registry.host}/${REPO}:base` });
    const tags = Array.from({ length: IMAGES }, (_, i) => `v${String(i).padStart(3, '0')}`);
    say(`api: seeding ${IMAGES} distinct images in the registry`);
    await seedVariants(registry.url, REPO, base, tags);
    const source = `${registry.host}/${REPO}`;
    const engines: Engine[] = [];
    const both = ['/_ping', '/images/json'] as const;

    const floor = cleanup.add(await startPingFloor(await work.fresh('api-floor')));
    engines.push({
      name: 'bare fastify (floor)',
      socket: floor.socket,
      pid: floor.pid,
      endpoints: ['/_ping'],
    });

    const dockhand = cleanup.add(await startDaemonProcess({ dir: await work.fresh('api-dockhand') }));
    const seedStarted = performance.now();
    await pullAll(dockhand.socket, source, tags);
    const dockhandSeedMs = performance.now() - seedStarted;
    const dockhandCount = await countImages(dockhand.socket);
    engines.push({ name: 'Dockhand', socket: dockhand.socket, pid: dockhand.pid, endpoints: both });
    out.line(
      `Dockhand: ${IMAGES} pulls of distinct images (${SEED_CONCURRENCY} at a time) took ` +
        `${seconds(dockhandSeedMs)}; GET /images/json lists ${dockhandCount} images.`,
    );

    if (dockerdInstalled()) {
      const dockerd = cleanup.add(await startDockerd(await work.fresh('api-dockerd')));
      const seedStarted = performance.now();
      await pullAll(dockerd.socket, source, tags);
      out.line(
        `dockerd ${await serverVersion(dockerd.socket)} (vfs, own data root): ${IMAGES} pulls took ` +
          `${seconds(performance.now() - seedStarted)}; GET /images/json lists ${await countImages(dockerd.socket)} images.`,
      );
      engines.push({ name: 'dockerd', socket: dockerd.socket, pid: dockerd.pid, endpoints: both });
    } else {
      out.line(`dockerd is not installed (${DOCKERD} does not exist): not measured.`);
    }
    const [load1] = loadavg();
    out.line(
      `Load average (1 min) before the runs: ${load1?.toFixed(2)} on 2 cores: anything else running on the machine ` +
        'shows in the latencies (compare with the floor).',
    );
    out.line();

    say('api: warming up');
    for (const engine of engines) for (const path of engine.endpoints) await warm(engine, path);
    const results = new Map<string, Load[]>();
    for (let round = 0; round < settings.rounds; round++) {
      say(`api: round ${round + 1}/${settings.rounds}`);
      for (const engine of engines) {
        for (const path of engine.endpoints) {
          const key = `${engine.name} ${path}`;
          results.set(key, [...(results.get(key) ?? []), await load(engine, path)]);
        }
      }
    }

    out.line(
      `${settings.rounds} round(s) after a ${WARMUP_S} s warm-up each, servers and endpoints one after the other; ` +
        'autocannon runs in the bench process on the same 2 cores. CPU columns: % of one core. Median (min – max) ' +
        'over rounds.',
    );
    out.line();
    out.table(
      [
        'server and endpoint',
        'req/s',
        'p50 latency',
        'p99 latency',
        'server CPU',
        'autocannon CPU',
        'errors + non-2xx',
      ],
      [...results].map(([key, loads]) => [
        key,
        spread(summarize(loads.map((l) => l.reqPerSec)), (v) => v.toFixed(0)),
        spread(summarize(loads.map((l) => l.p50)), millis),
        spread(summarize(loads.map((l) => l.p99)), millis),
        spread(summarize(loads.map((l) => l.serverCpu)), percent),
        spread(summarize(loads.map((l) => l.clientCpu)), percent),
        String(loads.reduce((sum, l) => sum + l.bad, 0)),
      ]),
    );
    if (dockhandCount < IMAGES) {
      out.check('api: images listed by Dockhand', String(dockhandCount), `≥ ${IMAGES}`, false);
    }
    for (const path of both) {
      const loads = results.get(`Dockhand ${path}`) ?? [];
      const p99 = summarize(loads.map((l) => l.p99)).median;
      const bad = loads.reduce((sum, l) => sum + l.bad, 0);
      out.check(`api: Dockhand ${path} p99 (median of rounds)`, millis(p99), '< 20 ms', p99 < 20);
      if (bad > 0) out.check(`api: Dockhand ${path} errors + non-2xx`, String(bad), '0', false);
      const reference = results.get(`dockerd ${path}`);
      if (reference) {
        const ours = summarize(loads.map((l) => l.reqPerSec)).median;
        const theirs = summarize(reference.map((l) => l.reqPerSec)).median;
        out.check(
          `api: Dockhand ${path} req/s vs dockerd (medians)`,
          `${ours.toFixed(0)} vs ${theirs.toFixed(0)}`,
          '≥ dockerd',
          ours >= theirs,
        );
      }
    }
    return out.done();
  } finally {
    await cleanup.run();
  }
};
