// Section 2: 50 clients pulling 20 images that share a base layer, all at once, against one daemon. The registry
// sits behind a recording front, so we can count how often each blob was fetched: single-flight means once. A blob
// is counted by the bytes the front served for it over its size, not by its GETs: a large blob comes in ranges, a
// piece per GET.
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { buildImage } from '../../test/rig/fixtures.ts';
import { startFront } from '../../test/rig/front.ts';
import { startRegistry } from '../../test/rig/registry.ts';
import { pushImage } from '../../test/rig/skopeo.ts';
import { Cleanup } from '../cleanup.ts';
import { startDaemonProcess } from '../daemon-process.ts';
import { pullOk } from '../engine.ts';
import { SectionWriter } from '../report.ts';
import { seconds, spread, summarize } from '../stats.ts';
import { MIB, type Section } from './context.ts';

const IMAGES = 20;
const CLIENTS = 50;
const BASE_BYTES = 16 * MIB;
const OWN_BYTES = MIB;
const TAG = '1';

interface FanoutRound {
  ms: number;
  failures: string[];
  blobGets: Map<string, number>;
  /** Body bytes the front served per blob digest. */
  blobBytes: Map<string, number>;
  manifestGets: number;
}

const repoOf = (i: number) => `bench/fan-${String(i).padStart(2, '0')}`;

export const fanoutSection: Section = async ({ settings, work, say }) => {
  const out = new SectionWriter(
    `2. ${CLIENTS} concurrent pulls of ${IMAGES} images sharing a base layer, one daemon`,
  );
  const cleanup = new Cleanup();
  try {
    const registry = cleanup.add(await startRegistry({ auth: 'none' }));
    say(`fanout: building and pushing ${IMAGES} images`);
    const sizes = new Map<string, number>();
    for (let i = 0; i < IMAGES; i++) {
      // Same seed and size for layer 0 gives the same base blob; a different size for layer 1 gives each image
      // a layer of its own.
      const image = await buildImage({ layers: [BASE_BYTES, OWN_BYTES + i * 4096], seed: 11 }, { tag: TAG });
      for (const built of image.images) {
        sizes.set(built.configDigest, built.configSize);
        for (const layer of built.layers) sizes.set(layer.digest, layer.size);
      }
      await pushImage({ layoutDir: image.layoutDir, tag: TAG, dest: `${registry.host}/${repoOf(i)}:${TAG}` });
    }
    const front = cleanup.add(await startFront({ target: registry.url }));
    const rounds: FanoutRound[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      say(`fanout: round ${round + 1}/${settings.rounds}`);
      const dir = await work.fresh(`fanout-${round}`);
      const daemon = await startDaemonProcess({ dir });
      try {
        front.reset();
        const started = performance.now();
        const results = await Promise.allSettled(
          Array.from({ length: CLIENTS }, (_, client) =>
            pullOk(daemon.socket, `${front.host}/${repoOf(client % IMAGES)}`, TAG),
          ),
        );
        const ms = performance.now() - started;
        const failures = results.flatMap((r) =>
          r.status === 'rejected' ? [String((r.reason as Error).message)] : [],
        );
        const blobGets = new Map<string, number>();
        const blobBytes = new Map<string, number>();
        let manifestGets = 0;
        for (const record of front.requests()) {
          if (record.method !== 'GET') continue;
          if (record.kind === 'manifest') manifestGets++;
          if (record.kind !== 'blob') continue;
          const digest = record.path.slice(record.path.lastIndexOf('/') + 1);
          blobGets.set(digest, (blobGets.get(digest) ?? 0) + 1);
          blobBytes.set(digest, (blobBytes.get(digest) ?? 0) + record.bytes);
        }
        rounds.push({ ms, failures, blobGets, blobBytes, manifestGets });
        if (failures.length > 0) say(`fanout: ${failures.length} pulls failed, first: ${failures[0]}`);
      } finally {
        await daemon.stop();
        await rm(dir, { recursive: true, force: true });
      }
    }

    const maxPerBlob = (r: FanoutRound) => Math.max(0, ...r.blobGets.values());
    /** How many times over the front served a blob: its bytes served over its size. */
    const timesFetched = (digest: string, bytes: number) => bytes / (sizes.get(digest) ?? bytes);
    const maxFetched = (r: FanoutRound) =>
      Math.max(0, ...[...r.blobBytes].map(([digest, bytes]) => timesFetched(digest, bytes)));
    const total = (r: FanoutRound) => [...r.blobGets.values()].reduce((a, b) => a + b, 0);
    out.line(
      `${IMAGES} images = one ${BASE_BYTES / MIB} MiB base layer + one ~${OWN_BYTES / MIB} MiB layer each; ` +
        `${CLIENTS} pulls started at once (client i pulls image i mod ${IMAGES}), fresh daemon and data root per ` +
        'round. Blob GETs and their bytes counted at the passthrough front, per digest (configs included); a blob of ' +
        '16 MiB or more comes in ranges, a piece per GET, so how often it was fetched is its bytes served over its size.',
    );
    out.line();
    out.table(
      [
        'round',
        'wall (all 50)',
        'failed pulls',
        'distinct blobs fetched',
        'blob GETs',
        'max GETs per blob',
        'max bytes served per blob / its size',
        'manifest GETs',
      ],
      rounds.map((r, i) => [
        String(i + 1),
        seconds(r.ms),
        String(r.failures.length),
        String(r.blobGets.size),
        String(total(r)),
        String(maxPerBlob(r)),
        maxFetched(r).toFixed(2),
        String(r.manifestGets),
      ]),
    );
    out.line(`Wall: ${spread(summarize(rounds.map((r) => r.ms)), seconds)}`);
    const firstFailure = rounds.flatMap((r) => r.failures)[0];
    if (firstFailure !== undefined) out.line(`First failure: \`${firstFailure.slice(0, 300)}\``);
    const repeated = rounds.flatMap((r) =>
      [...r.blobBytes]
        .filter(([d, bytes]) => timesFetched(d, bytes) > 1)
        .map(([d, bytes]) => `${d.slice(0, 19)}… ×${timesFetched(d, bytes).toFixed(2)}`),
    );
    if (repeated.length > 0)
      out.line(`Blobs fetched more than once: ${[...new Set(repeated)].slice(0, 10).join(', ')}`);
    out.line();
    const failedPulls = rounds.reduce((sum, r) => sum + r.failures.length, 0);
    const worst = Math.max(...rounds.map(maxFetched));
    out.check('fanout: failed pulls (all rounds)', String(failedPulls), '0', failedPulls === 0);
    out.check('fanout: max fetches per blob', worst.toFixed(2), '1', worst <= 1);
    return out.done();
  } finally {
    await cleanup.run();
  }
};
