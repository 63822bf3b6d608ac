// Blob GETs redirected away from the registry (as registries hand out pre-signed storage URLs): the blobs arrive,
// and the registry credential never reaches the other origin, whether another host name or another port.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { expectPullSucceeded, pullRaw } from '../helpers/raw-pull.ts';
import { type BuiltImage, buildImage } from '../rig/fixtures.ts';
import { type Front, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { SMALL_SPEC } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

const CREDS = { username: 'testuser', password: 'testpass' };

let tokenServer: TokenServer;
let tokenRegistry: Registry;
let basicRegistry: Registry;
let image: BuiltImage;
const fronts: Front[] = [];

beforeAll(async () => {
  image = await buildImage(SMALL_SPEC, { tag: '1' });
  tokenServer = await startTokenServer();
  [tokenRegistry, basicRegistry] = await Promise.all([
    startRegistry({ auth: 'token', tokenServer }),
    startRegistry({ auth: 'htpasswd', users: { [CREDS.username]: CREDS.password } }),
  ]);
  await Promise.all(
    [tokenRegistry, basicRegistry].map((registry) =>
      pushImage({
        layoutDir: image.layoutDir,
        tag: image.tag,
        dest: `${registry.host}/small:1`,
        creds: CREDS,
      }),
    ),
  );
});

afterAll(async () => {
  for (const front of fronts) await front.stop();
  await basicRegistry?.stop();
  await tokenRegistry?.stop();
  await tokenServer?.stop();
});

const blobs = () => {
  const [platform] = image.images;
  if (!platform) throw new Error('the fixture has no image');
  return [
    { digest: platform.configDigest, size: platform.configSize },
    ...platform.layers.map((l) => ({ digest: l.digest, size: l.size })),
  ];
};

describe('blob redirects to another origin', () => {
  const cases = [
    { registry: () => basicRegistry, scheme: 'Basic', to: 'other-host' },
    { registry: () => tokenRegistry, scheme: 'Bearer', to: 'other-host' },
    { registry: () => basicRegistry, scheme: 'Basic', to: 'other-port' },
    { registry: () => tokenRegistry, scheme: 'Bearer', to: 'other-port' },
  ] as const;

  for (const { registry, scheme, to } of cases) {
    it(`${scheme} registry, redirect to ${to}: blobs arrive, the other origin sees no Authorization`, async () => {
      const front = await startFront({ target: registry().url, faults: [{ type: 'redirect', to }] });
      fronts.push(front);
      const daemon: TestDaemon = await startTestDaemon();
      try {
        expectPullSucceeded(
          await pullRaw(daemon.socket, `${front.host}/small`, '1', { ...CREDS, serveraddress: front.host }),
        );

        const blobGets = front.requests().filter((r) => r.kind === 'blob' && r.method === 'GET');
        const redirected = blobGets.filter((r) => r.status === 307);
        expect(redirected.map((r) => r.path.split('/').at(-1)).sort()).toEqual(
          blobs()
            .map((b) => b.digest)
            .sort(),
        );
        // The pull did authenticate at the registry, with the scheme the registry asked for.
        for (const r of redirected) expect(r.auth.scheme).toBe(scheme);

        const target = front.redirectTarget;
        expect(target).toBeDefined();
        const served = target?.requests() ?? [];
        expect(served).toHaveLength(blobs().length);
        for (const r of served) {
          expect(r.auth.present).toBe(false);
          expect(r.status).toBe(200);
          expect(r.host).toBe(
            to === 'other-host' ? `localhost:${target?.port}` : `127.0.0.1:${target?.port}`,
          );
        }
        const bytes = served.reduce((sum, r) => sum + r.bytes, 0);
        expect(bytes).toBe(blobs().reduce((sum, b) => sum + b.size, 0));

        // What the other origin served is what the store now holds.
        for (const blob of blobs()) expect(await daemon.service.store.content.has(blob.digest)).toBe(true);
      } finally {
        await daemon.close();
      }
    });
  }
});
