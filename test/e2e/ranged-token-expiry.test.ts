// Long pulls through short-lived tokens, with a large layer fetched in parallel ranges: the real token-auth registry,
// the rig's token server and a front that caps each connection's rate, so range requests start after the pull's
// first token expired. The pull completes, the blob verifies, token requests stay about one per expiry (not one per
// request), credentials go only where they belong, and a token refused mid-way costs no completed range again.

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenChallengeHandler, EngineClient, type JSONMessage } from '../../client/index.ts';
import { FAST_RETRY, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { expectPullSucceeded, pullRaw, sha256File } from '../helpers/raw-pull.ts';
import { buildImage, type LayerInfo } from '../rig/fixtures.ts';
import { type Fault, type Front, type FrontRecord, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { pushImage } from '../rig/skopeo.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

const USER = { username: 'testuser', password: 'testpass' };
const REPO = 'ranged-tokens';
const LAYER_BYTES = 48 * 1024 * 1024;
const BYTES_PER_SECOND = 8 * 1024 * 1024;
/**
 * What the token server says (`expires_in`) and how long the registry really accepts a token. The rig sets `exp` on
 * whole seconds, so a token lives between TOKEN_SECONDS - 1 and TOKEN_SECONDS: at most one expiry per second.
 */
const TOKEN_SECONDS = 2;
/** Bytes a connection closed mid-body may have had in flight (the front writes 1/20 s of the rate at once). */
const IN_FLIGHT_SLACK = 1024 * 1024;
/** How late the registry's second refusal comes: well after the daemon renewed the token. */
const HOLD_MS = 500;

let tokens: TokenServer;
let registry: Registry;
let front: Front;
let layer: LayerInfo;
let daemon: TestDaemon | undefined;

beforeAll(async () => {
  const image = await buildImage({ layers: [LAYER_BYTES], seed: 48 }, { tag: '1' });
  layer = image.images[0]!.layers[0]!;
  tokens = await startTokenServer({ users: { [USER.username]: USER.password } });
  registry = await startRegistry({ auth: 'token', tokenServer: tokens });
  await pushImage({ layoutDir: image.layoutDir, tag: '1', dest: `${registry.host}/${REPO}:1`, creds: USER });
  front = await startFront({ target: registry.url });
}, 120_000);

beforeEach(async () => {
  daemon = await startTestDaemon({ retry: FAST_RETRY });
  tokens.resetLog();
  front.reset();
});

afterEach(async () => {
  await daemon?.close();
  daemon = undefined;
  tokens.setTokenLifetime(undefined);
  tokens.setExpiresIn(300);
  await front.setFaults([]);
});

afterAll(async () => {
  await front?.stop();
  await registry?.stop();
  await tokens?.stop();
});

const throttled: Fault = { type: 'slow', bytesPerSecond: BYTES_PER_SECOND };

/**
 * Tokens that live TOKEN_SECONDS, and the layer behind the rate cap, its first range request reaching the registry
 * after the first token expired whatever its life (a slow way there); the ranges split off later meet the
 * renewed tokens' expiries as they come.
 */
async function shortLivedTokens(): Promise<void> {
  tokens.setTokenLifetime(TOKEN_SECONDS);
  tokens.setExpiresIn(TOKEN_SECONDS);
  await front.setFaults([
    { ...throttled, pathIncludes: layer.digest },
    { type: 'hold', pathIncludes: layer.digest, nth: 1, ms: TOKEN_SECONDS * 1000 + 200 },
  ]);
}

/** The layer's GETs at the front, in order. */
function layerGets(): FrontRecord[] {
  return front.requests().filter((r) => r.method === 'GET' && r.path.endsWith(layer.digest));
}

/** The bytes a GET asked for, [first, end). */
function askedRange(r: FrontRecord): [number, number] {
  const match = /^bytes=(\d+)-(\d*)$/.exec(r.range ?? '');
  if (!match) return [0, layer.size];
  return [Number(match[1]), match[2] ? Number(match[2]) + 1 : layer.size];
}

/**
 * No request asked again for bytes an answer that had already ended served: a refused or cut range resumes where
 * its bytes stop (less what was in flight), and the other ranges are not fetched again.
 */
function expectNoByteAskedTwice(): void {
  const gets = layerGets();
  const served = gets
    .filter((r) => r.status === 200 || r.status === 206)
    .map((r) => ({ from: askedRange(r)[0], to: askedRange(r)[0] + r.bytes, ended: r.time + r.durationMs }));
  for (const r of gets) {
    const [first, end] = askedRange(r);
    for (const e of served.filter((e) => e.ended <= r.time)) {
      const overlap = Math.max(0, Math.min(end, e.to) - Math.max(first, e.from));
      expect(overlap, `${r.range} asks again for bytes served before`).toBeLessThanOrEqual(IN_FLIGHT_SLACK);
    }
  }
  const total = served.reduce((sum, e) => sum + (e.to - e.from), 0);
  expect(total).toBeGreaterThanOrEqual(layer.size);
}

/** The bearer tokens the registry refused (sha256 of each Authorization), whatever the request. */
function refusedTokens(): Set<string> {
  return new Set(
    front
      .requests()
      .filter((r) => r.status === 401 && r.auth.present)
      .map((r) => r.auth.sha256 ?? ''),
  );
}

async function expectLayerStored(): Promise<void> {
  const hex = layer.digest.slice('sha256:'.length);
  expect(await sha256File(join(daemon!.dataRoot, 'oci', 'blobs', 'sha256', hex))).toBe(hex);
}

/** Expiries a pull of `ms` can meet: a token lives more than TOKEN_SECONDS - 1 s. */
function expiriesWithin(ms: number): number {
  return Math.ceil(ms / ((TOKEN_SECONDS - 1) * 1000));
}

/** The credentials went only where they belong: the password to the token server, tokens to the registry. */
function expectCredentialsInPlace(): void {
  const records = front.requests();
  expect(records.filter((r) => r.auth.present && r.auth.scheme !== 'Bearer')).toEqual([]);
  expect(records.some((r) => r.auth.scheme === 'Bearer')).toBe(true);
  expect(tokens.log().every((e) => e.status === 200 && e.basicAuth && e.user === USER.username)).toBe(true);
  expect(daemon!.logs()).not.toContain(USER.password);
  // No token either (a JWT's header and claims both start with eyJ).
  expect(daemon!.logs()).not.toMatch(/eyJ[\w-]*\.eyJ/);
}

function rawPull() {
  return pullRaw(daemon!.socket, `${front.host}/${REPO}`, '1', { ...USER, serveraddress: front.host });
}

interface ClientPull {
  /** Times the handler was asked, and how many of those were renewals ahead of expiry. */
  answers: number;
  renewals: number;
  /** "Pulling from" lines: one per daemon request (1 when every later challenge was asked in the stream). */
  streams: number;
}

/** A pull through the SDK whose handler fetches a fresh token for every challenge after the first. */
async function clientPull(options: {
  sideChannel: boolean;
  renewBeforeExpiry?: boolean;
}): Promise<ClientPull> {
  const handler = createTokenChallengeHandler({ credentials: async () => USER });
  const run: ClientPull = { answers: 0, renewals: 0, streams: 0 };
  const client = new EngineClient({ socketPath: daemon!.socket });
  try {
    await client.pull(`${front.host}/${REPO}:1`, {
      ...options,
      challengeHandler: (challenge) => {
        run.answers++;
        if (challenge.renewal) run.renewals++;
        return handler(challenge);
      },
      onProgress: (message: JSONMessage) => {
        if (message.status?.startsWith('Pulling from')) run.streams++;
      },
    });
  } finally {
    await client.close();
  }
  return run;
}

describe('a large layer in parallel ranges through tokens that expire mid-pull', () => {
  it('without clientAuth: one token request per expired token, not one per range request', async () => {
    await shortLivedTokens();
    const started = performance.now();
    expectPullSucceeded(await rawPull());
    const ms = performance.now() - started;
    await expectLayerStored();

    const gets = layerGets();
    // Several connections, and range requests the registry refused for an expired token: the case under test.
    expect(gets.filter((r) => r.status === 206).length).toBeGreaterThan(1);
    expect(gets.filter((r) => r.status === 401).length).toBeGreaterThan(0);
    // The first token, then one per token the registry refused, however many requests it refused the token on;
    // so at most one per expiry the pull lived through.
    const asked = tokens.log().length;
    expect(asked).toBe(1 + refusedTokens().size);
    expect(asked).toBeLessThanOrEqual(1 + expiriesWithin(ms));
    expectCredentialsInPlace();
    expectNoByteAskedTwice();
  }, 60_000);

  it.each([
    { renewBeforeExpiry: false, how: 'when the registry refused a range request' },
    { renewBeforeExpiry: true, how: 'with renewal ahead of expiry on (the default)' },
  ])(
    'with clientAuth: the daemon asks in the stream $how, about once per expiry',
    async ({ renewBeforeExpiry }) => {
      await shortLivedTokens();
      const started = performance.now();
      const run = await clientPull({ sideChannel: true, renewBeforeExpiry });
      const ms = performance.now() - started;
      await expectLayerStored();

      const gets = layerGets();
      expect(gets.filter((r) => r.status === 206).length).toBeGreaterThan(1);
      // The first challenge comes before the stream (HTTP 401); every later one was asked in it while the ranges
      // that needed it waited: one stream from start to end.
      expect(run.streams).toBe(1);
      expect(run.answers).toBeGreaterThan(1);
      expect(gets.filter((r) => r.status === 401).length).toBeGreaterThan(0);
      // The first question, then one per token the registry refused, however many requests it refused it on; a
      // renewal ahead of expiry replaces a token before (or instead of) its refusal. So at most one per expiry.
      const perToken = 1 + run.renewals + refusedTokens().size;
      if (renewBeforeExpiry) expect(run.answers).toBeLessThanOrEqual(perToken);
      else expect(run.answers).toBe(perToken);
      expect(run.answers).toBeLessThanOrEqual(1 + expiriesWithin(ms));
      // The handler fetched a fresh token for each answer, and nothing else asked the token server.
      expect(tokens.log().length).toBe(run.answers);
      expectCredentialsInPlace();
      expectNoByteAskedTwice();
    },
    60_000,
  );
});

describe('a token the registry refuses for one range while the others run', () => {
  /** The layer's second GET (the first range split off, while the first runs) carries a token revoked from then on. */
  const revokeSecondRange = (): Fault[] => [
    { ...throttled, pathIncludes: layer.digest },
    { type: 'revoke-token', pathIncludes: layer.digest, nth: 2 },
  ];

  function expectRefusedForTheRevokedToken(): void {
    const refused = layerGets().filter((r) => r.faults.includes('revoke-token'));
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.status).toBe(401);
      expect(r.challenges.join(' ')).toContain('error="invalid_token"');
    }
  }

  it('without clientAuth: one new token, and no range is fetched again', async () => {
    await front.setFaults(revokeSecondRange());
    expectPullSucceeded(await rawPull());
    await expectLayerStored();
    expectRefusedForTheRevokedToken();
    expect(tokens.log()).toHaveLength(2);
    expectNoByteAskedTwice();
    expectCredentialsInPlace();
  }, 60_000);

  it('with clientAuth and the side channel: asked in the stream, and no range is fetched again', async () => {
    await front.setFaults(revokeSecondRange());
    const run = await clientPull({ sideChannel: true });
    await expectLayerStored();
    expectRefusedForTheRevokedToken();
    expect(run.answers).toBe(2);
    expect(run.streams).toBe(1);
    expectNoByteAskedTwice();
    expectCredentialsInPlace();
  }, 60_000);

  it('with clientAuth without the side channel: the retried pull resumes every range where it stopped', async () => {
    await front.setFaults(revokeSecondRange());
    const run = await clientPull({ sideChannel: false });
    await expectLayerStored();
    expectRefusedForTheRevokedToken();
    expect(run.answers).toBe(2);
    expect(run.streams).toBe(2);
    expectNoByteAskedTwice();
    expectCredentialsInPlace();
  }, 60_000);
});

describe('a refusal that reaches the daemon after it renewed the token', () => {
  // The config and the layer are asked for at once with the first token, which the first of them revokes; the
  // second reaches the registry HOLD_MS late, so its refusal comes when the first was answered with a new token.
  const lateSecondRefusal = (): Fault[] => [
    { ...throttled, pathIncludes: layer.digest },
    { type: 'hold', kind: 'blob', nth: 2, ms: HOLD_MS },
    { type: 'revoke-token', kind: 'blob', nth: 1 },
  ];

  function expectOneTokenRefusedTwice(): void {
    const refused = front.requests().filter((r) => r.status === 401 && r.auth.present);
    expect(refused).toHaveLength(2);
    expect(refusedTokens().size).toBe(1);
    expect(refused.filter((r) => r.faults.includes(`hold:${HOLD_MS}`))).toHaveLength(1);
  }

  it('without clientAuth: the late refusal takes the renewed token, no token request of its own', async () => {
    await front.setFaults(lateSecondRefusal());
    expectPullSucceeded(await rawPull());
    await expectLayerStored();
    expectOneTokenRefusedTwice();
    expect(tokens.log()).toHaveLength(2);
    expectCredentialsInPlace();
  }, 60_000);

  it('with clientAuth: the late refusal takes the answer already given, no question of its own', async () => {
    await front.setFaults(lateSecondRefusal());
    const run = await clientPull({ sideChannel: true });
    await expectLayerStored();
    expectOneTokenRefusedTwice();
    expect(run.answers).toBe(2);
    expect(run.streams).toBe(1);
    expect(tokens.log()).toHaveLength(2);
    expectCredentialsInPlace();
  }, 60_000);
});
