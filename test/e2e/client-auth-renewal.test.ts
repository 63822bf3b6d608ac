// Long operations under short-lived credentials, against the real token-auth registry, the rig's token server
// (refresh-token rotation on) and a front that throttles every blob: the pull outlives many access tokens and still
// completes with every layer byte served once; with the side channel it is one stream from start to end. A push
// whose grant lacks push fails at once with the typed error. Registry warnings reach the stream once each.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  createTokenChallengeHandler,
  EngineClient,
  isRegistryWarningAux,
  type JSONMessage,
  PartialGrantError,
} from '../../client/index.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { LONG_PULL, type LongPullRig, longPull, startLongPullRig } from '../helpers/long-pull.ts';
import { defaultPolicy } from '../rig/token-server.ts';

let rig: LongPullRig;
let daemon: TestDaemon | undefined;

beforeAll(async () => {
  rig = await startLongPullRig();
}, 120_000);

afterEach(async () => {
  await daemon?.close();
  daemon = undefined;
});

afterAll(async () => {
  await rig?.stop();
});

async function freshDaemon(): Promise<string> {
  daemon = await startTestDaemon({ maxConcurrentDownloads: LONG_PULL.concurrentDownloads });
  return daemon.socket;
}

function expectEveryLayerByteOnce(layerBytes: { served: number; size: number }[]): void {
  expect(layerBytes).toHaveLength(LONG_PULL.layers);
  for (const layer of layerBytes) expect(layer.served).toBe(layer.size);
}

it('renews in the stream: one stream, every layer byte once, no refresh-token reuse', async () => {
  const run = await longPull(rig, await freshDaemon(), { sideChannel: true, renewBeforeExpiry: true });
  expect(run.result.digest).toBe(rig.image.digest);
  expect(run.streams).toBe(1);
  expect(run.refreshTokenReuse).toBe(0);
  expectEveryLayerByteOnce(run.layerBytes);
  // The pull outlived its first token several times over: it renewed, ahead of expiry. The first request's 401
  // (before the stream) is the only one expected; requests that meet a renewal being asked wait for it. The rig's
  // tokens expire on whole seconds, up to 1 s before issued_at + expires_in, so under load one request may still
  // arrive in that gap (the renew-on-401 design meets one per expiry, 4 in the benchmark).
  expect(run.ms).toBeGreaterThan(2 * LONG_PULL.tokenSeconds * 1000);
  expect(run.renewals).toBeGreaterThan(0);
  expect(run.registry401s).toBeLessThanOrEqual(2);
}, 120_000);

it('without the side channel, the retries resume and every round that progressed may renew', async () => {
  // One round allowed: the pull renews several times all the same, since each round made progress.
  const run = await longPull(rig, await freshDaemon(), {
    sideChannel: false,
    renewBeforeExpiry: false,
    maxRounds: 1,
  });
  expect(run.result.digest).toBe(rig.image.digest);
  expect(run.answers).toBeGreaterThan(1);
  expect(run.streams).toBe(run.answers);
  expect(run.refreshTokenReuse).toBe(0);
  // Each retry resumes with Range: only what was in flight when a stream ended is sent twice.
  for (const layer of run.layerBytes) {
    expect(layer.served).toBeGreaterThanOrEqual(layer.size);
    expect(layer.served - layer.size).toBeLessThan(64 * 1024);
  }
}, 120_000);

it('refuses a push the grant does not cover, within seconds, one token request per answer', async () => {
  const socket = await freshDaemon();
  const client = new EngineClient({ socketPath: socket });
  rig.tokens.setPolicy((user, name, type) =>
    type === 'repository' && name === 'long' ? ['pull'] : defaultPolicy(user, name, type),
  );
  try {
    await client.pull(rig.ref, {
      challengeHandler: createTokenChallengeHandler({
        credentials: async () => ({ username: 'testuser', password: 'testpass' }),
      }),
    });
    rig.tokens.resetLog();
    let answers = 0;
    const inner = createTokenChallengeHandler({
      credentials: async () => ({ username: 'testuser', password: 'testpass' }),
    });
    const started = Date.now();
    const err = await client
      .push(rig.ref, {
        challengeHandler: (c) => {
          answers++;
          return inner(c);
        },
      })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(PartialGrantError);
    expect((err as PartialGrantError).message).toBe(
      'denied: push to long needs pull,push; the token grants pull',
    );
    expect((err as PartialGrantError).repository).toBe('long');
    expect((err as PartialGrantError).actionsAsked).toEqual(['pull', 'push']);
    expect(rig.tokens.counters().requests).toBeLessThanOrEqual(answers);
  } finally {
    rig.tokens.setPolicy(defaultPolicy);
    await client.close();
  }
}, 60_000);

it("without clientAuth, refuses the same push in dockerd's words, without a loop", async () => {
  const client = new EngineClient({ socketPath: await freshDaemon() });
  rig.tokens.setPolicy((user, name, type) =>
    type === 'repository' && name === 'long' ? ['pull'] : defaultPolicy(user, name, type),
  );
  const auth = { username: 'testuser', password: 'testpass', serveraddress: rig.front.host };
  try {
    await client.pull(rig.ref, { auth });
    rig.tokens.resetLog();
    const err = await client.push(rig.ref, { auth }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('denied: requested access to the resource is denied');
    expect(rig.tokens.counters().requests).toBeLessThanOrEqual(2);
  } finally {
    rig.tokens.setPolicy(defaultPolicy);
    await client.close();
  }
}, 60_000);

it("passes the registry's Warning headers on as stream messages, once per operation", async () => {
  const client = new EngineClient({ socketPath: await freshDaemon() });
  await rig.front.setFaults([
    { type: 'warning', text: 'this repository is deprecated', kind: 'any' },
    { type: 'warning', text: 'pull quota at 90%', kind: 'manifest' },
  ]);
  const messages: JSONMessage[] = [];
  try {
    await client.pull(rig.ref, {
      challengeHandler: createTokenChallengeHandler({
        credentials: async () => ({ username: 'testuser', password: 'testpass' }),
      }),
      onProgress: (m) => messages.push(m),
    });
  } finally {
    await rig.front.setFaults([]);
    await client.close();
  }
  const warnings = messages.flatMap((m) => (isRegistryWarningAux(m.aux) ? [m.aux.registryWarning] : []));
  expect(warnings).toEqual([
    { registry: rig.front.host, text: 'this repository is deprecated' },
    { registry: rig.front.host, text: 'pull quota at 90%' },
  ]);
  expect(rig.front.requests().filter((r) => r.faults.includes('warning')).length).toBeGreaterThan(2);
}, 60_000);
