// Section 3: clientAuth, cold against warm. Cold: the daemon answers 401 with the registry's challenge, the client
// fetches a token from the realm itself and retries. Warm: the client sends a valid token up front. The difference
// is what the challenge round trip costs a pull.
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { AuthConfig } from '../../api-spec/auth-config.ts';
import { bearerParams, fetchToken, parseWwwAuthenticate } from '../../protocol/index.ts';
import { buildImage } from '../../test/rig/fixtures.ts';
import { startRegistry } from '../../test/rig/registry.ts';
import { pushImage } from '../../test/rig/skopeo.ts';
import { startTokenServer, type TokenServer } from '../../test/rig/token-server.ts';
import { Cleanup } from '../cleanup.ts';
import { startDaemonProcess } from '../daemon-process.ts';
import { pull } from '../engine.ts';
import { SectionWriter } from '../report.ts';
import { millis, ratio, seconds, spread, summarize } from '../stats.ts';
import { pushWarmupImage, type WarmupImage, warmUp } from '../warmup.ts';
import type { WorkDir } from '../workdir.ts';
import { MIB, rotated, type Section } from './context.ts';

const MIN_ROUNDS = 9;
const REPO = 'bench/auth';
const TAG = '1';
const CREDS = { username: 'testuser', password: 'testpass' };

interface ColdRun {
  ms: number;
  /** Until the daemon's 401 arrived. */
  challengeMs: number;
  /** The client's token fetch. */
  tokenMs: number;
  /** The pull retried with the token, alone: comparable to a warm pull. */
  retryMs: number;
}

interface Setup {
  work: WorkDir;
  tokenServer: TokenServer;
  /** host:port of the token registry. */
  registryHost: string;
  warmup: WarmupImage;
}

/** Runs `body` against a fresh daemon (own data root) that has done its warm-up pull. */
async function withDaemon<T>(setup: Setup, name: string, body: (socket: string) => Promise<T>): Promise<T> {
  const dir = await setup.work.fresh(name);
  const daemon = await startDaemonProcess({ dir });
  try {
    await warmUp(daemon.socket, setup.warmup);
    return await body(daemon.socket);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- daemon log ---\n${daemon.logs()}`);
  } finally {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const authFor = (setup: Setup, token: string): AuthConfig => ({
  registrytoken: token,
  serveraddress: setup.registryHost,
});

function cold(setup: Setup, round: number): Promise<ColdRun> {
  const image = `${setup.registryHost}/${REPO}`;
  return withDaemon(setup, `clientauth-cold-${round}`, async (socket) => {
    const started = performance.now();
    const first = await pull(socket, { image, tag: TAG, clientAuth: true });
    const challengeMs = performance.now() - started;
    if (first.kind !== 'challenge') throw new Error('clientauth cold: the pull was not challenged');
    const bearer = bearerParams(parseWwwAuthenticate(first.challenges));
    if (!bearer) {
      throw new Error(
        `clientauth cold: no Bearer challenge with a realm in ${first.challenges.length} line(s)`,
      );
    }
    const token = await fetchToken({
      realm: bearer.realm,
      service: bearer.service,
      scopes: bearer.scope ?? [],
      credential: { kind: 'basic', ...CREDS },
    });
    const retryStarted = performance.now();
    const tokenMs = retryStarted - started - challengeMs;
    const auth = authFor(setup, token.token);
    const second = await pull(socket, { image, tag: TAG, clientAuth: true, auth });
    if (second.kind !== 'done')
      throw new Error('clientauth cold: challenged again after the retry with a token');
    const ended = performance.now();
    return { ms: ended - started, challengeMs, tokenMs, retryMs: ended - retryStarted };
  });
}

async function warm(setup: Setup, round: number): Promise<number> {
  // Fetched before the clock starts: a warm client has it in its cache.
  const token = await fetchToken({
    realm: setup.tokenServer.realm,
    service: setup.tokenServer.service,
    scopes: [`repository:${REPO}:pull`],
    credential: { kind: 'basic', ...CREDS },
  });
  const image = `${setup.registryHost}/${REPO}`;
  return withDaemon(setup, `clientauth-warm-${round}`, async (socket) => {
    const started = performance.now();
    const outcome = await pull(socket, {
      image,
      tag: TAG,
      clientAuth: true,
      auth: authFor(setup, token.token),
    });
    if (outcome.kind !== 'done')
      throw new Error('clientauth warm: challenged although a valid token was sent');
    return performance.now() - started;
  });
}

export const clientAuthSection: Section = async ({ settings, work, say }) => {
  const out = new SectionWriter('3. clientAuth: cold (401, token fetch, retry) vs warm (token up front)');
  const cleanup = new Cleanup();
  try {
    const tokenServer = cleanup.add(await startTokenServer({ users: { [CREDS.username]: CREDS.password } }));
    const registry = cleanup.add(await startRegistry({ auth: 'token', tokenServer }));
    // The warm-up image lives on a separate no-auth registry: nothing the daemon may remember about the token
    // registry (a challenge, a token) comes from the warm-up.
    const warmupRegistry = cleanup.add(await startRegistry({ auth: 'none' }));
    const warmup = await pushWarmupImage(warmupRegistry.host);
    const half = (settings.authSizeMiB * MIB) / 2;
    const image = await buildImage({ layers: [half, half], seed: 23 }, { tag: TAG });
    say(`clientauth: pushing a ${settings.authSizeMiB} MiB image to the token registry`);
    await pushImage({
      layoutDir: image.layoutDir,
      tag: TAG,
      dest: `${registry.host}/${REPO}:${TAG}`,
      creds: CREDS,
    });
    const setup: Setup = { work, tokenServer, registryHost: registry.host, warmup };

    const coldRuns: ColdRun[] = [];
    const warmRuns: number[] = [];
    // The difference measured (a 401 and a token fetch, ~25 ms) is small next to the pull's own run-to-run spread on
    // a shared machine, so this cheap section takes more rounds than the others.
    const rounds = Math.max(settings.rounds, MIN_ROUNDS);
    for (let round = 0; round < rounds; round++) {
      const order = rotated(['cold', 'warm'] as const, round);
      say(`clientauth: round ${round + 1}/${rounds} (${order.join(', ')})`);
      for (const which of order) {
        if (which === 'cold') coldRuns.push(await cold(setup, round));
        else warmRuns.push(await warm(setup, round));
      }
    }

    const coldMs = summarize(coldRuns.map((r) => r.ms));
    const warmMs = summarize(warmRuns);
    out.line(
      `Token registry + rig token server, image of ${settings.authSizeMiB} MiB (2 layers), fresh daemon and data ` +
        'root per pull, each daemon warmed up by a 1 MiB pull from another (no-auth) registry; daemon start and ' +
        `warm-up not timed; cold and warm alternate, ${rounds} rounds. Median (min – max).`,
    );
    out.line();
    out.table(
      ['pull', 'wall', 'of which: until the 401', 'token fetch by the client', 'the retried pull'],
      [
        [
          'cold: clientAuth=1, 401, fetchToken, retry',
          spread(coldMs, seconds),
          spread(summarize(coldRuns.map((r) => r.challengeMs)), millis),
          spread(summarize(coldRuns.map((r) => r.tokenMs)), millis),
          spread(summarize(coldRuns.map((r) => r.retryMs)), seconds),
        ],
        ['warm: clientAuth=1 with a valid registrytoken', spread(warmMs, seconds), '–', '–', '–'],
      ],
    );
    const coldOverWarm = coldMs.median / warmMs.median;
    out.check('clientauth: cold / warm (medians)', ratio(coldOverWarm), '≤ 1.2', coldOverWarm <= 1.2);
    return out.done();
  } finally {
    await cleanup.run();
  }
};
