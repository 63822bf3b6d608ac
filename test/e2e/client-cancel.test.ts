// Cancelling through the SDK reaches the registry: an AbortSignal on pull() closes the request to the daemon, and
// the daemon stops its blob downloads (the registry stops being read), finishes nothing and keeps no image.
// Real daemon, registry 2.8, and the rig's front throttling blobs so the pull is still running when it aborts.

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { EngineClient } from '../../client/index.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { buildImage } from '../rig/fixtures.ts';
import { type Front, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { SMALL_SPEC } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';

const BYTES_PER_SECOND = 128 * 1024;

let registry: Registry;
let front: Front;
let daemon: TestDaemon;
let client: EngineClient;
let layerBytes: number;

beforeAll(async () => {
  registry = await startRegistry({ auth: 'none' });
  const small = await buildImage(SMALL_SPEC, { tag: '1' });
  await pushImage({ layoutDir: small.layoutDir, tag: small.tag, dest: `${registry.host}/small:1` });
  layerBytes = small.images[0]!.layers.reduce((sum, layer) => sum + layer.size, 0);
  front = await startFront({
    target: registry.url,
    faults: [{ type: 'slow', bytesPerSecond: BYTES_PER_SECOND }],
  });
  daemon = await startTestDaemon();
  client = new EngineClient({ socketPath: daemon.socket });
});

afterAll(async () => {
  await client?.close();
  await daemon?.close();
  await front?.stop();
  await registry?.stop();
});

const blobGets = () => front.requests().filter((r) => r.kind === 'blob' && r.method === 'GET');
const servedBytes = () => blobGets().reduce((sum, r) => sum + r.bytes, 0);

it('aborting a pull makes the daemon close its registry downloads and keep no image', async () => {
  const controller = new AbortController();
  const pulling = client.pull(`${front.host}/small:1`, {
    signal: controller.signal,
    onProgress: (m) => {
      // The first Downloading line says 0 bytes, before the blob request: wait for bytes to arrive.
      if (m.status === 'Downloading' && (m.progressDetail?.current ?? 0) > 0) {
        controller.abort(new Error('user cancelled'));
      }
    },
  });
  await expect(pulling).rejects.toThrow('user cancelled');

  // Every blob response the front started is closed by the daemon, long before the throttled body would end.
  await vi.waitFor(() => expect(blobGets().every((r) => r.durationMs > 0)).toBe(true), { timeout: 5_000 });
  expect(blobGets().length).toBeGreaterThan(0);
  const served = servedBytes();
  const requests = front.requests().length;
  await sleep(1_500);
  // Nothing more is read from the registry: no new request, no more bytes (1.5 s would be ~190 KiB).
  expect(front.requests().length).toBe(requests);
  expect(servedBytes()).toBe(served);
  expect(served).toBeLessThan(layerBytes);
  expect(await client.listImages()).toEqual([]);
});
