// What classic-mode authorization costs on the wire, counted at a passthrough front before the real registry and at
// the token server: no /v2/ ping, one 401 and one token request per repository, none while the token lives.
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAuthConfig } from '../../api-spec/auth-config.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { type Front, type FrontRecord, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { type SeededImages, seedImages } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

const CREDS = { username: 'testuser', password: 'testpass' };

interface PullOutcome {
  status: number;
  messages: { status?: string; error?: string; errorDetail?: { message?: string } }[];
  /** The pre-stream error message, when the status is not 200. */
  message: string | undefined;
}

async function pull(socket: string, host: string, repository: string, tag: string): Promise<PullOutcome> {
  const client = new Client('http://localhost', { socketPath: socket });
  try {
    const query = new URLSearchParams({ fromImage: `${host}/${repository}`, tag });
    const auth = encodeAuthConfig({ ...CREDS, serveraddress: host });
    const response = await client.request({
      method: 'POST',
      path: `/images/create?${query}`,
      headers: { 'x-registry-auth': auth },
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      return { status: response.statusCode, messages: [], message: JSON.parse(text).message };
    }
    const messages = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line));
    return { status: 200, messages, message: undefined };
  } finally {
    await client.close();
  }
}

function expectSuccess(outcome: PullOutcome): void {
  expect(outcome.message).toBeUndefined();
  expect(outcome.status).toBe(200);
  expect(outcome.messages.find((m) => m.error !== undefined)).toBeUndefined();
  expect(outcome.messages.at(-1)?.status).toMatch(
    /^Status: (Downloaded newer image|Image is up to date) for /,
  );
}

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
    expectSuccess(await pull(daemon.socket, front.host, 'small', '1'));
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
    const outcome = await pull(daemon.socket, front.host, 'small', '1');
    expectSuccess(outcome);
    expect(outcome.messages.at(-1)?.status).toMatch(/^Status: Image is up to date for /);
    const records = front.requests();
    expect(unauthorized(records)).toEqual([]);
    expect(tokenServer.counters().requests).toBe(0);
    expect(records.map((r) => `${r.method} ${r.kind}`)).toEqual(['HEAD manifest']);
  });

  it('pull of another repository: one token request for it, no 401 (the host is known to want Bearer)', async () => {
    front.reset();
    tokenServer.resetLog();
    expectSuccess(await pull(daemon.socket, front.host, 'small-v2s2', '1'));
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
        Array.from({ length: 10 }, () => pull(fresh.socket, front.host, 'multi', '1')),
      );
      for (const outcome of outcomes) expectSuccess(outcome);
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
          expectSuccess(await pull(fresh.socket, bent.host, 'public/small', '1'));
          const first = bent.requests();
          expect(first.length).toBeGreaterThan(3);
          expect(unauthorized(first), summary(first).join('\n')).toHaveLength(1);
          expect(tokenServer.counters().requests).toBe(1);

          bent.reset();
          tokenServer.resetLog();
          expectSuccess(await pull(fresh.socket, bent.host, 'multi', '1'));
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
        expectSuccess(await pull(fresh.socket, bearerFront.host, 'small', '1'));
        const bearer = bearerFront.requests();
        expect(pings(bearer)).toEqual([]);
        expect(unauthorized(bearer)).toHaveLength(1);
        expect(tokenServer.counters().requests).toBe(1);
        expect(bearer.filter((r) => r.kind === 'blob')).toHaveLength(3);
        expect(bearer.filter((r) => r.status === 200).every((r) => r.auth.scheme === 'Bearer')).toBe(true);
      });
      await withDaemon(async (fresh) => {
        expectSuccess(await pull(fresh.socket, basicFront.host, 'small', '1'));
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
