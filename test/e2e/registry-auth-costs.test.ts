// What classic-mode authorization costs on the wire, counted at a passthrough front before the real registry and at
// the token server: no /v2/ ping, one 401 and one token request per repository, none while the token lives.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { expectPullSucceeded, pullRaw } from '../helpers/raw-pull.ts';
import { type Front, type FrontRecord, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { type SeededImages, seedImages } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

const CREDS = { username: 'testuser', password: 'testpass' };

const unauthorized = (records: FrontRecord[]) => records.filter((r) => r.status === 401);
const pings = (records: FrontRecord[]) => records.filter((r) => r.kind === 'ping');
/** One line per request, for assertion messages. */
const summary = (records: FrontRecord[]) => records.map((r) => `${r.method} ${r.path} ${r.status}`);

let tokenServer: TokenServer;
let registry: Registry;
let front: Front;
let images: SeededImages;
let daemon: TestDaemon;
let basicRegistry: Registry;

/** A daemon with nothing cached (no token, no remembered challenge), closed after `fn`. */
async function withDaemon(fn: (daemon: TestDaemon) => Promise<void>): Promise<void> {
  const fresh = await startTestDaemon();
  try {
    await fn(fresh);
  } finally {
    await fresh.close();
  }
}

beforeAll(async () => {
  tokenServer = await startTokenServer();
  registry = await startRegistry({ auth: 'token', tokenServer });
  images = await seedImages(registry.host, CREDS);
  basicRegistry = await startRegistry({ auth: 'htpasswd', users: { [CREDS.username]: CREDS.password } });
  await pushImage({
    layoutDir: images.small.build.layoutDir,
    tag: images.small.build.tag,
    dest: `${basicRegistry.host}/small:1`,
    creds: CREDS,
  });
  front = await startFront({ target: registry.url });
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.close();
  await front?.stop();
  await registry?.stop();
  await basicRegistry?.stop();
  await tokenServer?.stop();
});

describe('classic mode authorization costs (token registry behind a passthrough front)', () => {
  it('cold pull: one 401, one token request for the repository, no /v2/ ping', async () => {
    front.reset();
    tokenServer.resetLog();
    expectPullSucceeded(
      await pullRaw(daemon.socket, `${front.host}/small`, '1', { ...CREDS, serveraddress: front.host }),
      { upToDate: true },
    );
    const records = front.requests();
    expect(pings(records)).toEqual([]);
    expect(unauthorized(records), summary(records).join('\n')).toHaveLength(1);
    expect(unauthorized(records)[0]?.repository).toBe('small');
    expect(tokenServer.counters().requests).toBe(1);
    const [entry] = tokenServer.log();
    expect(entry?.scopesAsked).toContain('repository:small:pull');
    expect(entry?.user).toBe(CREDS.username);
    expect(entry?.status).toBe(200);
    expect(daemon.logs()).not.toContain(CREDS.password);
    expect(daemon.logs()).not.toMatch(/Bearer\s+ey/);
  });

  it('second pull within the token life: zero 401s, zero token requests, one HEAD', async () => {
    front.reset();
    tokenServer.resetLog();
    const outcome = await pullRaw(daemon.socket, `${front.host}/small`, '1', {
      ...CREDS,
      serveraddress: front.host,
    });
    expectPullSucceeded(outcome, { upToDate: true });
    expect(outcome.messages.at(-1)?.status).toMatch(/^Status: Image is up to date for /);
    const records = front.requests();
    expect(unauthorized(records)).toEqual([]);
    expect(tokenServer.counters().requests).toBe(0);
    expect(records.map((r) => `${r.method} ${r.kind}`)).toEqual(['HEAD manifest']);
  });

  it('pull of another repository: one token request for it, no 401 (the host is known to want Bearer)', async () => {
    front.reset();
    tokenServer.resetLog();
    expectPullSucceeded(
      await pullRaw(daemon.socket, `${front.host}/small-v2s2`, '1', { ...CREDS, serveraddress: front.host }),
      { upToDate: true },
    );
    const records = front.requests();
    expect(pings(records)).toEqual([]);
    expect(unauthorized(records)).toEqual([]);
    expect(tokenServer.log().map((e) => e.scopesAsked)).toEqual([['repository:small-v2s2:pull']]);
  });

  it('ten concurrent pulls of one repository on a cold daemon make exactly one token request', async () => {
    await withDaemon(async (fresh) => {
      front.reset();
      tokenServer.resetLog();
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () =>
          pullRaw(fresh.socket, `${front.host}/multi`, '1', { ...CREDS, serveraddress: front.host }),
        ),
      );
      for (const outcome of outcomes) expectPullSucceeded(outcome, { upToDate: true });
      const records = front.requests();
      expect(pings(records)).toEqual([]);
      expect(tokenServer.log().map((e) => e.scopesAsked)).toEqual([['repository:multi:pull']]);
      // Each pull that sent its HEAD before the first challenge was answered gets its own 401; they all share the
      // one token fetch.
      expect(unauthorized(records).length).toBeGreaterThanOrEqual(1);
      expect(unauthorized(records).length).toBeLessThanOrEqual(10);
      // One download per blob (config + 2 layers of the amd64 image), however many pulls need it.
      expect(records.filter((r) => r.kind === 'blob' && r.status === 200)).toHaveLength(3);
    });
  });
});

describe('registries that bend the challenge (fronts in other modes)', () => {
  for (const mode of ['wrong-scope', 'pull-push-scope'] as const) {
    it(`${mode}: one 401 per repository per pull, not one per request`, async () => {
      const bent = await startFront({ target: registry.url, mode });
      try {
        await withDaemon(async (fresh) => {
          tokenServer.resetLog();
          expectPullSucceeded(
            await pullRaw(fresh.socket, `${bent.host}/public/small`, '1', {
              ...CREDS,
              serveraddress: bent.host,
            }),
            { upToDate: true },
          );
          const first = bent.requests();
          expect(first.length).toBeGreaterThan(3);
          expect(unauthorized(first), summary(first).join('\n')).toHaveLength(1);
          expect(tokenServer.counters().requests).toBe(1);

          bent.reset();
          tokenServer.resetLog();
          expectPullSucceeded(
            await pullRaw(fresh.socket, `${bent.host}/multi`, '1', { ...CREDS, serveraddress: bent.host }),
            { upToDate: true },
          );
          const second = bent.requests();
          expect(second.length).toBeGreaterThan(3);
          // The host's Bearer challenge is remembered: the token for the new repository is fetched up front.
          expect(unauthorized(second), summary(second).join('\n')).toEqual([]);
          expect(tokenServer.log().map((e) => e.scopesAsked)).toEqual([['repository:multi:pull']]);
        });
      } finally {
        await bent.stop();
      }
    });
  }

  it('v2-open: Bearer (token registry) and Basic (htpasswd registry) pulls succeed with one 401 each', async () => {
    const bearerFront = await startFront({ target: registry.url, mode: 'v2-open' });
    const basicFront = await startFront({ target: basicRegistry.url, mode: 'v2-open' });
    try {
      await withDaemon(async (fresh) => {
        tokenServer.resetLog();
        expectPullSucceeded(
          await pullRaw(fresh.socket, `${bearerFront.host}/small`, '1', {
            ...CREDS,
            serveraddress: bearerFront.host,
          }),
          { upToDate: true },
        );
        const bearer = bearerFront.requests();
        expect(pings(bearer)).toEqual([]);
        expect(unauthorized(bearer)).toHaveLength(1);
        expect(tokenServer.counters().requests).toBe(1);
        expect(bearer.filter((r) => r.kind === 'blob')).toHaveLength(3);
        expect(bearer.filter((r) => r.status === 200).every((r) => r.auth.scheme === 'Bearer')).toBe(true);
      });
      await withDaemon(async (fresh) => {
        expectPullSucceeded(
          await pullRaw(fresh.socket, `${basicFront.host}/small`, '1', {
            ...CREDS,
            serveraddress: basicFront.host,
          }),
          { upToDate: true },
        );
        const basic = basicFront.requests();
        expect(pings(basic)).toEqual([]);
        expect(unauthorized(basic)).toHaveLength(1);
        expect(basic.filter((r) => r.kind === 'blob')).toHaveLength(3);
        expect(basic.filter((r) => r.status === 200).every((r) => r.auth.scheme === 'Basic')).toBe(true);
      });
    } finally {
      await bearerFront.stop();
      await basicFront.stop();
    }
  });
});
