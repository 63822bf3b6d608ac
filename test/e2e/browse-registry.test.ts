// Browsing a real token-auth registry (Debian docker-registry 2.8) from the SDK, answered on the client by the
// built-in challenge handlers against the rig's token server; requests are counted at a passthrough front and at
// the token server.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CatalogNotGrantedError,
  type ChallengeHandler,
  createMemoryTokenStore,
  createOAuthChallengeHandler,
  createTokenChallengeHandler,
  inspectManifest,
  listRepositories,
  listTags,
  login,
  RepositoryAccessDeniedError,
} from '../../client/index.ts';
import {
  type BrowseRegistry,
  FULL_USER,
  LIMITED_USER,
  startBrowseRegistry,
} from '../helpers/browse-registry.ts';

let rig: BrowseRegistry;

beforeAll(async () => {
  rig = await startBrowseRegistry();
});

afterAll(async () => {
  await rig?.stop();
});

async function collect(names: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const name of names) out.push(name);
  return out;
}

const handlerFor = (user: { username: string; password: string }): ChallengeHandler =>
  createTokenChallengeHandler({ credentials: async () => user });

const catalogRequests = () => rig.front.requests().filter((r) => r.path === '/v2/_catalog');

describe('browsing a token-auth registry', () => {
  it('a full user lists every repository across several pages (page size 2), with one token request', async () => {
    rig.front.reset();
    rig.tokenServer.resetLog();
    const names = await collect(
      listRepositories(rig.host, { challengeHandler: handlerFor(FULL_USER), pageSize: 2 }),
    );
    expect(names).toEqual(rig.allRepositories);
    const requests = catalogRequests();
    const pages = requests.filter((r) => r.status === 200);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(rig.allRepositories.length / 2));
    expect(pages.every((r) => new URLSearchParams(r.query).get('n') === '2')).toBe(true);
    // One challenge, answered once; every later page carries the token.
    expect(requests.filter((r) => r.status === 401)).toHaveLength(1);
    expect(rig.tokenServer.counters().requests).toBe(1);
    expect(rig.tokenServer.log()[0]).toMatchObject({
      user: FULL_USER.username,
      scopesAsked: ['registry:catalog:*'],
      scopesGranted: ['registry:catalog:*'],
    });
  });

  it('a limited user is told the catalog is not granted, and still lists the tags it may pull', async () => {
    const challengeHandler = handlerFor(LIMITED_USER);
    let refusal: unknown;
    try {
      await collect(listRepositories(rig.host, { challengeHandler, pageSize: 2 }));
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(CatalogNotGrantedError);
    expect((refusal as Error).message).toBe(
      `registry ${rig.host} does not let this login list its repositories (registry:catalog:* not granted)`,
    );
    expect(await collect(listTags(`${rig.host}/browse/r03`, { challengeHandler }))).toEqual(['1']);
    await expect(collect(listTags(`${rig.host}/small`, { challengeHandler }))).rejects.toBeInstanceOf(
      RepositoryAccessDeniedError,
    );
  });

  it('browsing 20 repositories costs one token request per repository scope, and none the second time', async () => {
    const challengeHandler = handlerFor(FULL_USER);
    rig.tokenServer.resetLog();
    const browse = () =>
      Promise.all(
        rig.browseRepositories.map((r) => collect(listTags(`${rig.host}/${r}`, { challengeHandler }))),
      );
    expect(await browse()).toEqual(rig.browseRepositories.map(() => ['1']));
    const asked = rig.tokenServer.log().map((e) => e.scopesAsked.join(' '));
    expect(asked.sort()).toEqual(rig.browseRepositories.map((r) => `repository:${r}:pull`).sort());
    expect(rig.tokenServer.counters().requests).toBe(20);
    expect(await browse()).toEqual(rig.browseRepositories.map(() => ['1']));
    expect(rig.tokenServer.counters().requests).toBe(20);
  });

  it('an OAuth login (refresh token, rotated on every use) browses the catalog and 20 repositories with no reuse', async () => {
    const store = createMemoryTokenStore();
    const clientId = 'dockhand-browse-test';
    await login({ registry: rig.host, ...FULL_USER, store, clientId });
    const firstRefreshToken = (await store.get(rig.host))?.refreshToken;
    expect(firstRefreshToken).toBeDefined();
    rig.tokenServer.resetLog();
    const challengeHandler = createOAuthChallengeHandler({ store, clientId });
    const browse = async () => {
      const [names, tags] = await Promise.all([
        collect(listRepositories(rig.host, { challengeHandler, pageSize: 2 })),
        Promise.all(
          rig.browseRepositories.map((r) => collect(listTags(`${rig.host}/${r}`, { challengeHandler }))),
        ),
      ]);
      expect(names).toEqual(rig.allRepositories);
      expect(tags).toEqual(rig.browseRepositories.map(() => ['1']));
    };
    await browse();
    await browse();
    const counters = rig.tokenServer.counters();
    expect(counters.reuseDetections).toBe(0);
    // One refresh per scope (the catalog and 20 repositories), none on the second pass.
    expect(counters.refreshes).toBe(21);
    expect(counters.requests).toBe(21);
    expect(rig.tokenServer.log().every((e) => e.status === 200 && e.grantType === 'refresh_token')).toBe(
      true,
    );
    const refreshToken = (await store.get(rig.host))?.refreshToken;
    expect(refreshToken).not.toBe(firstRefreshToken);
    expect(rig.tokenServer.isRefreshTokenValid(refreshToken ?? '')).toBe(true);
  });
});

describe('inspecting manifests without pulling', () => {
  it('lists the platforms of a multi-platform image', async () => {
    const { multi } = rig.images;
    const inspected = await inspectManifest(`${rig.host}/multi:1`, {
      challengeHandler: handlerFor(FULL_USER),
    });
    expect(inspected.kind).toBe('index');
    expect(inspected.digest).toBe(multi.digest);
    expect(inspected.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    if (inspected.kind !== 'index') return;
    expect(inspected.manifests.map((m) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
    expect(inspected.manifests.map((m) => m.digest)).toEqual(multi.build.images.map((i) => i.manifestDigest));
  });

  it('lists the layers and sizes of a single image, Docker schema2 and OCI alike', async () => {
    const challengeHandler = handlerFor(FULL_USER);
    const build = rig.images.small.build.images[0]!;
    for (const [repository, mediaType] of [
      ['small', 'application/vnd.oci.image.manifest.v1+json'],
      ['small-v2s2', 'application/vnd.docker.distribution.manifest.v2+json'],
    ] as const) {
      const inspected = await inspectManifest(`${rig.host}/${repository}:1`, { challengeHandler });
      expect(inspected.mediaType).toBe(mediaType);
      expect(inspected.digest).toBe(rig.images[repository].digest);
      expect(inspected.kind).toBe('manifest');
      if (inspected.kind !== 'manifest') return;
      expect(inspected.layers.map((l) => [l.digest, l.size])).toEqual(
        build.layers.map((l) => [l.digest, l.size]),
      );
      expect(inspected.totalSize).toBe(
        build.layers.reduce((sum, l) => sum + l.size, 0) + inspected.config.size,
      );
    }
    const byDigest = await inspectManifest(`${rig.host}/small@${rig.images.small.digest}`, {
      challengeHandler,
    });
    expect(byDigest.digest).toBe(rig.images.small.digest);
  });
});
