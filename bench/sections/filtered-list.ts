// Section: GET /_ping while clients list 1,000 images with filters. The data root is written directly through the
// store (1,000 distinct configs and manifests, two tags each), then the daemon runs as its own process; a probe
// sends GET /_ping one at a time while a few clients (in a process of their own, bench/list-clients.ts) list without
// pause: with the filters a user types (the same on every request, as a script that polls; then new ones on each
// request, so no answer is kept), and with a pattern built to be costly. Target: /_ping p99 under 20 ms with the
// user's filters.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ContentStore } from '../../daemon/store/content-store.ts';
import { digestOf } from '../../daemon/store/digest.ts';
import { MEDIA_TYPES, REF_NAME_ANNOTATION } from '../../daemon/store/oci.ts';
import { Cleanup } from '../cleanup.ts';
import { run as commandRun } from '../command.ts';
import { startDaemonProcess } from '../daemon-process.ts';
import { pingWhile } from '../ping-probe.ts';
import { SectionWriter } from '../report.ts';
import { millis, percentile, spread, summarize } from '../stats.ts';
import type { Section } from './context.ts';

const IMAGES = 1000;
const LIST_CLIENTS = 4;
const DURATION_MS = 5000;
const PING_P99_TARGET_MS = 20;
/** Time for the listers' process to start before the run's instant. */
const LISTERS_START_MS = 3000;
const LIST_CLIENTS_SCRIPT = join(import.meta.dirname, '..', 'list-clients.ts');

const TYPED = { reference: ['127.0.0.1:5000/bench/list:v0*'], label: ['tier=app'] };

/** The filters of the n-th list of a run, by scenario (bench/list-clients.ts sends them). */
export const LIST_FILTERS = {
  'reference and label (as typed)': () => TYPED,
  // The same answer, but no two requests alike: the daemon keeps no answer that fits, and filters and encodes each.
  'as typed, new filters each request': (n: number) => ({
    ...TYPED,
    reference: [...TYPED.reference, `unmatched-${n}`],
  }),
  'costly pattern (512 characters of stars)': () => ({ reference: [`${'*a'.repeat(255)}*z`] }),
  'warm-up (reads every config)': () => ({ dangling: ['false'] }),
} satisfies Record<string, (n: number) => object>;

export type ListScenario = keyof typeof LIST_FILTERS;

type Scenario = Exclude<ListScenario, 'warm-up (reads every config)'> | 'idle';

interface Run {
  pings: number[];
  lists: number;
}

/**
 * Writes the images as another OCI tool would: blobs through the content store, then one index.json naming every
 * reference (tagging 2,000 references one by one rewrites the index each time). The daemon derives the rest on open.
 */
export async function seedImages(dataRoot: string, count: number): Promise<void> {
  const content = await ContentStore.open(dataRoot);
  const named: object[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const config = Buffer.from(
        JSON.stringify({
          created: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
          os: 'linux',
          architecture: 'amd64',
          config: { Labels: { tier: i % 2 === 0 ? 'app' : 'base', index: String(i) } },
          rootfs: { type: 'layers', diff_ids: [digestOf(Buffer.from(`diff ${i}`))] },
        }),
      );
      const configDescriptor = {
        mediaType: MEDIA_TYPES.ociConfig,
        digest: digestOf(config),
        size: config.length,
      };
      const layer = {
        mediaType: MEDIA_TYPES.ociLayerGzip,
        digest: digestOf(Buffer.from(`layer ${i}`)),
        size: 1024,
      };
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.ociManifest,
          config: configDescriptor,
          layers: [layer],
        }),
      );
      const target = {
        mediaType: MEDIA_TYPES.ociManifest,
        digest: digestOf(manifest),
        size: manifest.length,
      };
      await content.putBytes(configDescriptor.digest, config);
      await content.putBytes(target.digest, manifest);
      const tag = `v${String(i).padStart(4, '0')}`;
      for (const ref of [`127.0.0.1:5000/bench/list:${tag}`, `docker.io/bench/app-${i}:latest`]) {
        named.push({ ...target, annotations: { [REF_NAME_ANNOTATION]: ref } });
      }
    }
    const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: named };
    await writeFile(content.layout.indexFile, JSON.stringify(index));
  } finally {
    await content.close();
  }
}

/**
 * Lists without pause on `LIST_CLIENTS` connections from their own process (none for `idle`) while the probe pings
 * from this one, both for `DURATION_MS` from the same instant.
 */
async function run(socket: string, scenario: ListScenario | 'idle'): Promise<Run> {
  const startAt = Date.now() + LISTERS_START_MS;
  const listers =
    scenario === 'idle'
      ? undefined
      : commandRun(process.execPath, [
          '--import',
          import.meta.resolve('tsx'),
          LIST_CLIENTS_SCRIPT,
          socket,
          scenario,
          String(LIST_CLIENTS),
          String(startAt),
          String(DURATION_MS),
        ]);
  await sleep(Math.max(0, startAt - Date.now()));
  try {
    const { pings } = await pingWhile(socket, () => sleep(DURATION_MS));
    if (!listers) return { pings, lists: 0 };
    const parsed = JSON.parse(await listers) as { lists?: unknown };
    if (typeof parsed.lists !== 'number') throw new Error('list-clients: no "lists" number');
    return { pings, lists: parsed.lists };
  } finally {
    await listers?.catch(() => {});
  }
}

export const filteredListSection: Section = async ({ settings, work, say }) => {
  const out = new SectionWriter(
    `GET /_ping while ${LIST_CLIENTS} clients list ${IMAGES} images with filters, ${DURATION_MS / 1000} s per run`,
  );
  const cleanup = new Cleanup();
  try {
    const dir = await work.fresh('filtered-list');
    say(`filtered-list: writing ${IMAGES} images into the data root`);
    const seedStarted = performance.now();
    await seedImages(join(dir, 'data'), IMAGES);
    const daemon = cleanup.add(await startDaemonProcess({ dir }));
    out.line(
      `${IMAGES} images (two tags each) written as an OCI layout in ${millis(performance.now() - seedStarted)}; ` +
        'the probe sends GET /_ping one at a time with 10 ms between; the listers, in a process of their own, send ' +
        'GET /images/json without pause.',
    );
    out.line();
    // The first list reads every config: not part of what is measured.
    await run(daemon.socket, 'warm-up (reads every config)');

    const scenarios: Scenario[] = [
      'idle',
      'reference and label (as typed)',
      'as typed, new filters each request',
      'costly pattern (512 characters of stars)',
    ];
    const results = new Map<Scenario, Run[]>();
    for (let round = 0; round < settings.rounds; round++) {
      say(`filtered-list: round ${round + 1}/${settings.rounds}`);
      for (const scenario of scenarios) {
        results.set(scenario, [...(results.get(scenario) ?? []), await run(daemon.socket, scenario)]);
      }
    }
    const p99 = (r: Run) => percentile(r.pings, 99);
    out.table(
      ['lists running', 'GET /_ping p50', 'GET /_ping p99', 'GET /_ping max', 'lists/s (all clients)'],
      scenarios.map((scenario) => {
        const runs = results.get(scenario) ?? [];
        return [
          scenario === 'idle' ? 'none (idle daemon)' : scenario,
          spread(summarize(runs.map((r) => percentile(r.pings, 50))), millis),
          spread(summarize(runs.map(p99)), millis),
          spread(summarize(runs.map((r) => Math.max(...r.pings))), millis),
          scenario === 'idle'
            ? '-'
            : spread(summarize(runs.map((r) => r.lists / (DURATION_MS / 1000))), (v) => v.toFixed(0)),
        ];
      }),
    );
    const checked: [Scenario, string][] = [
      ['reference and label (as typed)', 'with filters'],
      ['as typed, new filters each request', 'with new filters each request'],
    ];
    for (const [scenario, how] of checked) {
      const typed = summarize((results.get(scenario) ?? []).map(p99));
      out.check(
        `GET /_ping p99 while ${IMAGES} images are listed ${how}`,
        millis(typed.median),
        `< ${PING_P99_TARGET_MS} ms`,
        typed.median < PING_P99_TARGET_MS,
        `median of ${settings.rounds} round(s): ${spread(typed, millis)}`,
      );
    }
    for (const [scenario, runs] of results)
      out.record(
        scenario,
        runs.map((r) => ({ lists: r.lists, pings: r.pings })),
      );
    return out.done();
  } finally {
    await cleanup.run();
  }
};
