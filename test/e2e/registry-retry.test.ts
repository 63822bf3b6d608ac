// Transport failures a real registry path produces, injected by a front before a real registry: 503s and 429s are
// retried (Retry-After honoured), a body cut mid-blob resumes with a Range request for the rest, and a corrupted
// blob fails the pull without ever getting a blob's name in the store.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetryPolicy } from '../../daemon/distribution/transport/retry.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { expectPullSucceeded, pullRaw, sha256File } from '../helpers/raw-pull.ts';
import { type BuiltImage, buildImage, type LayerInfo } from '../rig/fixtures.ts';
import { type Fault, type Front, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { SMALL_SPEC } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';

const CREDS = { username: 'testuser', password: 'testpass' };

/** Every file under <dataRoot>/oci/blobs, as [name, sha256 of its bytes]. */
async function hashBlobs(dataRoot: string): Promise<[string, string][]> {
  const dir = join(dataRoot, 'oci', 'blobs', 'sha256');
  const out: [string, string][] = [];
  for (const name of await readdir(dir)) out.push([name, await sha256File(join(dir, name))]);
  const others = (await readdir(join(dataRoot, 'oci', 'blobs'))).filter((n) => n !== 'sha256');
  expect(others).toEqual([]);
  return out;
}

let registry: Registry;
let front: Front;
let image: BuiltImage;
let big: LayerInfo;

/** A daemon with an empty data root and the front set to `faults`, closed after `fn`. */
async function withDaemon(
  faults: Fault[],
  fn: (daemon: TestDaemon) => Promise<void>,
  retry?: RetryPolicy,
): Promise<void> {
  await front.setFaults(faults);
  front.reset();
  const daemon = await startTestDaemon(retry ? { retry } : {});
  try {
    await fn(daemon);
  } finally {
    await front.setFaults([]);
    await daemon.close();
  }
}

beforeAll(async () => {
  image = await buildImage(SMALL_SPEC, { tag: '1' });
  registry = await startRegistry({ auth: 'htpasswd', users: { [CREDS.username]: CREDS.password } });
  await pushImage({
    layoutDir: image.layoutDir,
    tag: image.tag,
    dest: `${registry.host}/small:1`,
    creds: CREDS,
  });
  front = await startFront({ target: registry.url });
  const layers = image.images[0]?.layers ?? [];
  big = layers.reduce((a, b) => (b.size > a.size ? b : a));
});

afterAll(async () => {
  await front?.stop();
  await registry?.stop();
});

describe('retries against a real registry', () => {
  it('503 on the first requests (manifest and blob) then success: the pull succeeds', async () => {
    const faults: Fault[] = [
      { type: 'status', status: 503, kind: 'manifest', times: 2 },
      { type: 'status', status: 503, kind: 'blob', pathIncludes: big.digest, times: 2 },
    ];
    await withDaemon(faults, async (daemon) => {
      expectPullSucceeded(
        await pullRaw(daemon.socket, `${front.host}/small`, '1', { ...CREDS, serveraddress: front.host }),
      );
      const records = front.requests();
      const manifests = records.filter((r) => r.kind === 'manifest');
      expect(manifests.slice(0, 2).map((r) => r.status)).toEqual([503, 503]);
      expect(manifests.filter((r) => r.status === 503)).toHaveLength(2);
      const bigGets = records.filter((r) => r.path.endsWith(big.digest));
      expect(bigGets.map((r) => r.status)).toEqual([503, 503, 200]);
      expect(bigGets.at(-1)?.bytes).toBe(big.size);
    });
  });

  it('429 with Retry-After: 1 is waited out, then the pull succeeds', async () => {
    // Backoff alone would wait 50 ms: a wait of about a second can only come from Retry-After.
    const retry: RetryPolicy = { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 5000 };
    const faults: Fault[] = [
      { type: 'status', status: 429, retryAfter: 1, kind: 'blob', pathIncludes: big.digest, times: 1 },
    ];
    await withDaemon(
      faults,
      async (daemon) => {
        const outcome = await pullRaw(daemon.socket, `${front.host}/small`, '1', {
          ...CREDS,
          serveraddress: front.host,
        });
        expectPullSucceeded(outcome);
        const bigGets = front.requests().filter((r) => r.path.endsWith(big.digest));
        expect(bigGets.map((r) => r.status)).toEqual([429, 200]);
        const [limited, next] = bigGets;
        expect((next?.time ?? 0) - (limited?.time ?? 0)).toBeGreaterThanOrEqual(950);
        expect(outcome.messages.some((m) => /^Retrying in 1 seconds?$/.test(m.status ?? ''))).toBe(true);
      },
      retry,
    );
  });

  it('a connection reset mid-blob resumes with a Range request for the remainder', async () => {
    const cutAt = 300_000;
    const faults: Fault[] = [{ type: 'reset', afterBytes: cutAt, pathIncludes: big.digest, nth: 1 }];
    await withDaemon(faults, async (daemon) => {
      expectPullSucceeded(
        await pullRaw(daemon.socket, `${front.host}/small`, '1', { ...CREDS, serveraddress: front.host }),
      );
      const bigGets = front.requests().filter((r) => r.path.endsWith(big.digest));
      expect(bigGets).toHaveLength(2);
      const [cut, resumed] = bigGets;
      expect(cut?.faults).toEqual([`reset:${cutAt}`]);
      expect(cut?.range).toBeUndefined();
      const from = Number(/^bytes=(\d+)-$/.exec(resumed?.range ?? '')?.[1]);
      expect(from).toBeGreaterThan(0);
      expect(from).toBeLessThanOrEqual(cutAt);
      expect(resumed?.status).toBe(206);
      expect(resumed?.bytes).toBe(big.size - from);
      const blobs = await hashBlobs(daemon.dataRoot);
      for (const [name, hash] of blobs) expect(hash).toBe(name);
      expect(blobs.map(([name]) => `sha256:${name}`)).toContain(big.digest);
    });
  });

  it('a flipped byte fails the pull in the stream, and no blob with a wrong digest is stored', async () => {
    const faults: Fault[] = [{ type: 'flip', pathIncludes: big.digest }];
    await withDaemon(faults, async (daemon) => {
      const outcome = await pullRaw(daemon.socket, `${front.host}/small`, '1', {
        ...CREDS,
        serveraddress: front.host,
      });
      expect(outcome.status).toBe(200);
      const last = outcome.messages.at(-1);
      expect(last?.errorDetail?.message).toBeDefined();
      expect(last?.error).toBe(last?.errorDetail?.message);
      expect(last?.errorDetail?.message).toBe(
        `filesystem layer verification failed for digest ${big.digest}`,
      );
      expect(outcome.messages.some((m) => m.status?.startsWith('Status: Downloaded'))).toBe(false);
      // The corrupt bytes were served to the end, once: a verification failure is not retried.
      const bigGets = front.requests().filter((r) => r.path.endsWith(big.digest));
      expect(bigGets.map((r) => r.faults)).toEqual([['flip:middle']]);
      const blobs = await hashBlobs(daemon.dataRoot);
      for (const [name, hash] of blobs) expect(hash).toBe(name);
      expect(blobs.map(([name]) => `sha256:${name}`)).not.toContain(big.digest);
      const partials = await readdir(join(daemon.dataRoot, 'oci', 'ingest'));
      expect(partials).not.toContain(`${big.digest.slice('sha256:'.length)}.partial`);
    });
  });
});
