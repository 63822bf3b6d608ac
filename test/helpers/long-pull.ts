// The long pull of issue "renew without restarting": an image with more layers than the daemon downloads at once,
// through a front that throttles every blob, under access tokens that expire every few seconds, answered by the
// OAuth handler with refresh-token rotation on. Shared by its e2e test and the renewal benchmark.
import { performance } from 'node:perf_hooks';
import {
  createMemoryTokenStore,
  createOAuthChallengeHandler,
  EngineClient,
  type JSONMessage,
  login,
  type PullResult,
} from '../../client/index.ts';
import { type BuiltImage, buildImage } from '../rig/fixtures.ts';
import { type Front, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { pushImage } from '../rig/skopeo.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

export const LONG_PULL = {
  layers: 6,
  layerBytes: 300_000,
  /** Per blob response: each layer takes ~3 s, the pull ~9 s at 2 concurrent downloads. */
  bytesPerSecond: 100_000,
  tokenSeconds: 3,
  concurrentDownloads: 2,
} as const;

const USER = { username: 'testuser', password: 'testpass' };
const CLIENT_ID = 'dockhand-long-pull';

export interface LongPullRig {
  tokens: TokenServer;
  registry: Registry;
  front: Front;
  image: BuiltImage;
  ref: string;
  stop(): Promise<void>;
}

export async function startLongPullRig(): Promise<LongPullRig> {
  const tokens = await startTokenServer({ users: { [USER.username]: USER.password }, rotation: true });
  const registry = await startRegistry({ auth: 'token', tokenServer: tokens });
  const front = await startFront({ target: registry.url });
  const image = await buildImage(
    { layers: Array.from({ length: LONG_PULL.layers }, () => LONG_PULL.layerBytes), seed: 12 },
    { tag: '1' },
  );
  await pushImage({ layoutDir: image.layoutDir, tag: '1', dest: `${registry.host}/long:1`, creds: USER });
  return {
    tokens,
    registry,
    front,
    image,
    ref: `${front.host}/long:1`,
    async stop() {
      await front.stop();
      await registry.stop();
      await tokens.stop();
    },
  };
}

export interface LongPullRun {
  result: PullResult;
  ms: number;
  /** 401s the registry answered (counted at the front). */
  registry401s: number;
  /** Access tokens the token server granted. */
  tokenGrants: number;
  refreshTokenReuse: number;
  /** Times the handler was asked, and how many of those were renewals ahead of expiry. */
  answers: number;
  renewals: number;
  /** "Pulling from" lines: one per daemon request (1 when one stream ran from start to end). */
  streams: number;
  /** Per layer: bytes the front served for it in 2xx answers, and its size. */
  layerBytes: { served: number; size: number }[];
}

/** One long pull through a daemon that has not pulled the image yet, as a freshly logged-in OAuth user. */
export async function longPull(
  rig: LongPullRig,
  socketPath: string,
  options: { sideChannel: boolean; renewBeforeExpiry: boolean; maxRounds?: number },
): Promise<LongPullRun> {
  const store = createMemoryTokenStore();
  await login({ registry: rig.front.host, ...USER, store, clientId: CLIENT_ID });
  const oauth = createOAuthChallengeHandler({ store, clientId: CLIENT_ID });
  await rig.front.setFaults([{ type: 'slow', bytesPerSecond: LONG_PULL.bytesPerSecond }]);
  rig.tokens.setTokenLifetime(LONG_PULL.tokenSeconds);
  rig.tokens.setExpiresIn(LONG_PULL.tokenSeconds);
  rig.tokens.resetLog();
  rig.front.reset();
  let answers = 0;
  let renewals = 0;
  let streams = 0;
  const client = new EngineClient({ socketPath });
  const started = performance.now();
  try {
    const result = await client.pull(rig.ref, {
      ...options,
      challengeHandler: (challenge) => {
        answers++;
        if (challenge.renewal) renewals++;
        return oauth(challenge);
      },
      onProgress: (message: JSONMessage) => {
        if (message.status?.startsWith('Pulling from')) streams++;
      },
    });
    const ms = performance.now() - started;
    const records = rig.front.requests();
    const layers = rig.image.images[0]?.layers ?? [];
    return {
      result,
      ms,
      registry401s: records.filter((r) => r.status === 401).length,
      tokenGrants: rig.tokens.counters().issuedAccessTokens,
      refreshTokenReuse: rig.tokens.counters().reuseDetections,
      answers,
      renewals,
      streams,
      layerBytes: layers.map((layer) => ({
        size: layer.size,
        served: records
          .filter((r) => r.method === 'GET' && r.path.includes(layer.digest) && r.status < 300)
          .reduce((sum, r) => sum + r.bytes, 0),
      })),
    };
  } finally {
    await client.close();
    rig.tokens.setTokenLifetime(undefined);
    rig.tokens.setExpiresIn(300);
    await rig.front.setFaults([]);
  }
}
