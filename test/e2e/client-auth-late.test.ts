// A challenge that arrives after the 200 stream started (a token expiring between layer downloads) is not lost:
// the stream ends with aux.authChallenge, the SDK answers it, and the retry resumes the partial blob with Range.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AuthChallenge, createTokenChallengeHandler, EngineClient } from '../../client/index.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { buildImage } from '../rig/fixtures.ts';
import { type Front, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { pushImage } from '../rig/skopeo.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

const USER = { username: 'testuser', password: 'testpass' };
let tokens: TokenServer;
let registry: Registry;
let front: Front;
let daemon: TestDaemon;

beforeAll(async () => {
  tokens = await startTokenServer({ users: { testuser: 'testpass' } });
  registry = await startRegistry({ auth: 'token', tokenServer: tokens });
  front = await startFront({ target: registry.url });
  daemon = await startTestDaemon({ maxConcurrentDownloads: 2 });
});

afterAll(async () => {
  await daemon?.close();
  await front?.stop();
  await registry?.stop();
  await tokens?.stop();
});

it('ends the stream with the challenge, and the retry transfers only the remaining bytes', async () => {
  const built = await buildImage({ layers: [600_000, 1_200_000, 100_000], seed: 42 }, { tag: '1' });
  await pushImage({ layoutDir: built.layoutDir, tag: '1', dest: `${registry.host}/late:1`, creds: USER });
  const [l1, l2, l3] = built.images[0]?.layers ?? [];
  if (!l1 || !l2 || !l3) throw new Error('fixture has three layers');
  // Layer 1 takes ~3 s and layer 2 ~6 s while tokens live 2 s: layer 3's GET (after layer 1) meets an expired
  // token while layer 2 is half way.
  await front.setFaults([
    { type: 'slow', bytesPerSecond: 200_000, pathIncludes: l1.digest },
    { type: 'slow', bytesPerSecond: 200_000, pathIncludes: l2.digest },
  ]);
  tokens.setTokenLifetime(2);
  front.reset();
  const inner = createTokenChallengeHandler({ credentials: async () => USER });
  const seen: AuthChallenge[] = [];
  const messages: string[] = [];
  try {
    const client = new EngineClient({ socketPath: daemon.socket });
    await client.pull(`${front.host}/late:1`, {
      // The fallback a daemon without the side channel gets: the stream ends, the retry resumes.
      sideChannel: false,
      challengeHandler: async (c) => {
        seen.push(c);
        return inner(c);
      },
      onProgress: (m) => messages.push(m.status ?? ''),
    });
  } finally {
    tokens.setTokenLifetime(undefined);
    await front.setFaults([]);
  }
  expect(seen.length).toBeGreaterThanOrEqual(2);
  expect(seen[1]?.lines[0]).toMatch(/error="invalid_token"/);
  // The first round streamed (200) before the late challenge: progress was seen before the second answer.
  expect(messages.some((m) => m.startsWith('Pulling from'))).toBe(true);
  const l2Gets = front
    .requests()
    .filter((r) => r.method === 'GET' && r.path.includes(l2.digest) && r.status < 300);
  expect(l2Gets.length).toBe(2);
  const resumed = l2Gets[1];
  const offset = Number(/bytes=(\d+)-/.exec(resumed?.range ?? '')?.[1]);
  expect(offset).toBeGreaterThan(0);
  expect(resumed?.bytes).toBe(l2.size - offset);
  const l1Gets = front
    .requests()
    .filter((r) => r.method === 'GET' && r.path.includes(l1.digest) && r.status < 300);
  expect(l1Gets.length).toBe(1);
}, 60_000);
