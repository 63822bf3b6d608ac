// A real pull-through cache (registry 2.8 in proxy mode) configured as the mirror of a registry host: pulls are
// served by the mirror, and when the mirror is down the pull falls back to the origin. Fronts before the origin and
// before the mirror count who served what.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../helpers/daemon.ts';
import { expectPullSucceeded, pullRaw } from '../helpers/raw-pull.ts';
import { type BuiltImage, buildImage } from '../rig/fixtures.ts';
import { type Front, type FrontRecord, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { SMALL_SPEC } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';

const blobGets = (records: FrontRecord[]) =>
  records.filter((r) => r.kind === 'blob' && r.method === 'GET' && r.status === 200);

let origin: Registry;
let originFront: Front;
let mirror: Registry;
let mirrorFront: Front;
let image: BuiltImage;

beforeAll(async () => {
  image = await buildImage(SMALL_SPEC, { tag: '1' });
  origin = await startRegistry({ auth: 'none' });
  await pushImage({ layoutDir: image.layoutDir, tag: image.tag, dest: `${origin.host}/small:1` });
  originFront = await startFront({ target: origin.url });
  // The cache fills itself from the origin directly, so the origin's front counts only the daemon's requests.
  mirror = await startRegistry({ auth: 'none', proxy: { remoteurl: origin.url } });
  mirrorFront = await startFront({ target: mirror.url });
});

afterAll(async () => {
  await mirrorFront?.stop();
  await mirror?.stop();
  await originFront?.stop();
  await origin?.stop();
});

const expectedBlobs = () => {
  const [platform] = image.images;
  if (!platform) throw new Error('the fixture has no image');
  return [platform.configDigest, ...platform.layers.map((l) => l.digest)].sort();
};

/** A pull of small:1 from the origin by a fresh daemon that has the mirror configured, the fronts' records reset. */
async function pullThroughMirror(): Promise<void> {
  const daemon = await startTestDaemon({
    registryMirrors: { [originFront.host]: [`http://${mirrorFront.host}`] },
  });
  try {
    originFront.reset();
    mirrorFront.reset();
    expectPullSucceeded(await pullRaw(daemon.socket, `${originFront.host}/small`, '1'));
  } finally {
    await daemon.close();
  }
}

describe('registry mirror (pull-through cache)', () => {
  it('serves the pull from the mirror: the origin sees no request', async () => {
    await pullThroughMirror();
    const fromMirror = blobGets(mirrorFront.requests());
    expect(fromMirror.map((r) => r.path.split('/').at(-1)).sort()).toEqual(expectedBlobs());
    expect(fromMirror.every((r) => r.repository === 'small')).toBe(true);
    expect(originFront.requests()).toEqual([]);
  });

  it('falls back to the origin when the mirror is stopped', async () => {
    await mirror.stop();
    await pullThroughMirror();
    // The mirror was tried first and could not answer (its front got no registry behind it).
    const tried = mirrorFront.requests();
    expect(tried.length).toBeGreaterThan(0);
    expect(tried.every((r) => r.status === 502)).toBe(true);
    // Not retried, and not asked again for the rest of the pull: one request, then the origin.
    expect(tried).toHaveLength(1);
    expect(
      blobGets(originFront.requests())
        .map((r) => r.path.split('/').at(-1))
        .sort(),
    ).toEqual(expectedBlobs());
  });
});
