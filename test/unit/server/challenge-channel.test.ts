// authChannel: a challenge raised after the stream started is put in the stream with an id and answered on
// POST /auth/challenges/{id}; the operation goes on in the same stream. Driven by the SDK against the real API server
// with a fake engine whose job asks the channel as the registry layer would.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthChallengeError,
  type ChallengeAnswer,
  EngineClient,
  type JSONMessage,
  PartialGrantError,
} from '../../../client/index.ts';
import { ChallengeDeclinedError } from '../../../daemon/errors.ts';
import type { ChallengeChannel, ClientAnswer, PullRequest } from '../../../daemon/images/image-service.ts';
import { engineRequest } from '../../helpers/openapi-check.ts';
import { FakeImageService } from './fake-image-service.ts';
import { type ServerHarness, startServerHarness } from './harness.ts';

const REGISTRY = 'r.example:5000';
const PULL_SCOPE = 'Bearer realm="https://auth.example/token",service="reg",scope="repository:small:pull"';
const PUSH_SCOPE =
  'Bearer realm="https://auth.example/token",service="reg",scope="repository:small:pull,push",error="insufficient_scope"';

let t: ServerHarness;
let client: EngineClient;
beforeAll(async () => {
  t = await startServerHarness();
  client = new EngineClient({ socketPath: t.socket });
});
afterAll(async () => {
  await client.close();
  await t.close();
});
beforeEach(() => {
  t.service.calls.pull.length = 0;
  t.service.pullBehaviour = new FakeImageService().pullBehaviour;
});

/** A pull job that asks the channel once per entry of `asks`, reporting `progress` bytes before each. */
function askingPull(asks: { lines: string; renewal?: boolean; progress?: number }[]) {
  const answers: ClientAnswer[] = [];
  const failures: unknown[] = [];
  t.service.pullBehaviour = async (request: PullRequest) => ({
    async run(emit) {
      emit({ status: 'Pulling from small', id: '1' });
      const channel = request.channel as ChallengeChannel;
      for (const ask of asks) {
        if (ask.progress)
          emit({ status: 'Downloading', id: 'aa', progressDetail: { current: ask.progress } });
        try {
          answers.push(
            await channel.ask({
              registry: REGISTRY,
              repository: 'small',
              lines: [ask.lines],
              renewal: ask.renewal ?? false,
            }),
          );
        } catch (err) {
          failures.push(err);
          throw err;
        }
      }
      emit({ status: 'Status: Downloaded newer image for r.example:5000/small:1' });
    },
  });
  return { answers, failures };
}

function jwt(access: unknown): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'ES256' })}.${part({ access })}.sig`;
}

describe('the side channel', () => {
  it('answers in-stream challenges and keeps one stream from start to end', async () => {
    const job = askingPull([{ lines: PULL_SCOPE }, { lines: PULL_SCOPE, renewal: true, progress: 10 }]);
    const seen: { attempt: number; renewal: boolean | undefined }[] = [];
    const messages: JSONMessage[] = [];
    let n = 0;
    await client.pull(`${REGISTRY}/small:1`, {
      challengeHandler: (c): ChallengeAnswer => {
        seen.push({ attempt: c.attempt, renewal: c.renewal });
        return { registrytoken: `tok${++n}`, expiresAt: Date.now() + 30_000 };
      },
      onProgress: (m) => messages.push(m),
    });
    expect(t.service.calls.pull).toHaveLength(1);
    expect(seen).toEqual([
      { attempt: 1, renewal: undefined },
      { attempt: 2, renewal: true },
    ]);
    expect(job.answers.map((a) => a.auth.registrytoken)).toEqual(['tok1', 'tok2']);
    expect(job.answers[0]?.auth.serveraddress).toBe(REGISTRY);
    // The answer's expiry reached the daemon (seconds, so within a second of what the handler said).
    expect(job.answers[0]?.expiresAt).toBeGreaterThan(Date.now() + 25_000);
    expect(messages.some((m) => m.aux !== undefined)).toBe(false);
  });

  it('without renewBeforeExpiry, the daemon is not told the expiry', async () => {
    const job = askingPull([{ lines: PULL_SCOPE }]);
    await client.pull(`${REGISTRY}/small:1`, {
      challengeHandler: () => ({ registrytoken: 'tok', expiresAt: Date.now() + 30_000 }),
      renewBeforeExpiry: false,
    });
    expect(job.answers[0]?.expiresAt).toBeUndefined();
  });

  it('a declining handler ends the operation with the typed reason, and the job learns it', async () => {
    const job = askingPull([{ lines: PULL_SCOPE }]);
    const err = await client
      .pull(`${REGISTRY}/small:1`, { challengeHandler: () => undefined })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthChallengeError);
    expect((err as AuthChallengeError).reason).toBe('declined');
    expect(job.failures[0]).toBeInstanceOf(ChallengeDeclinedError);
    expect((job.failures[0] as Error).message).toContain('the challengeHandler gave no credentials');
  });

  it("a throwing handler ends the operation with the handler's own error", async () => {
    askingPull([{ lines: PULL_SCOPE }]);
    const boom = new Error('the identity provider is down');
    const err = await client
      .pull(`${REGISTRY}/small:1`, {
        challengeHandler: () => {
          throw boom;
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBe(boom);
  });

  it('counts only rounds without progress', async () => {
    const progressing = Array.from({ length: 6 }, (_, i) => ({ lines: PULL_SCOPE, progress: (i + 1) * 100 }));
    askingPull(progressing);
    await client.pull(`${REGISTRY}/small:1`, { challengeHandler: () => ({ registrytoken: 't' }) });

    const stuck = askingPull(Array.from({ length: 6 }, () => ({ lines: PULL_SCOPE, progress: 100 })));
    const err = await client
      .pull(`${REGISTRY}/small:1`, { challengeHandler: () => ({ registrytoken: 't' }) })
      .catch((e: unknown) => e);
    expect((err as AuthChallengeError).reason).toBe('max-rounds');
    // The first ask came after the only progress: it and two more were answered, the fourth refused.
    expect(stuck.answers).toHaveLength(3);
  });

  it('refuses a partial grant at once, naming the repository, the actions asked and granted', async () => {
    const job = askingPull([{ lines: PUSH_SCOPE }, { lines: PUSH_SCOPE }]);
    let calls = 0;
    const err = await client
      .pull(`${REGISTRY}/small:1`, {
        challengeHandler: () => {
          calls++;
          return { registrytoken: jwt([{ type: 'repository', name: 'small', actions: ['pull'] }]) };
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialGrantError);
    expect((err as PartialGrantError).message).toBe(
      'denied: pull from small needs pull,push; the token grants pull',
    );
    expect((err as PartialGrantError).actionsGranted).toEqual(['pull']);
    expect(calls).toBe(1);
    expect(job.failures[0]).toBeInstanceOf(ChallengeDeclinedError);
  });

  it('asks once for concurrent challenges of one registry', async () => {
    let asked = 0;
    t.service.pullBehaviour = async (request: PullRequest) => ({
      async run(emit) {
        emit({ status: 'Pulling from small', id: '1' });
        const channel = request.channel as ChallengeChannel;
        const ask = () =>
          channel.ask({ registry: REGISTRY, repository: 'small', lines: [PULL_SCOPE], renewal: false });
        const [a, b] = await Promise.all([ask(), ask()]);
        expect(a).toBe(b);
      },
    });
    await client.pull(`${REGISTRY}/small:1`, {
      challengeHandler: () => {
        asked++;
        return { registrytoken: 't' };
      },
    });
    expect(asked).toBe(1);
  });

  it('is off unless the client opts in with authChannel', async () => {
    await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/create?fromImage=small&tag=1&clientAuth=1',
    });
    expect(t.service.calls.pull[0]?.channel).toBeUndefined();
  });

  it('answers 404 for an id nobody waits for, 400 for an answer without credentials', async () => {
    const unknown = await engineRequest(t.socket, {
      method: 'POST',
      path: '/auth/challenges/0123',
      headers: { 'content-type': 'application/json' },
      body: '{"decline":"no"}',
    });
    expect(unknown.status).toBe(404);
    const empty = await engineRequest(t.socket, { method: 'POST', path: '/auth/challenges/0123' });
    expect(empty.status).toBe(400);
  });
});

describe('the deadline', () => {
  let quick: ServerHarness;
  beforeAll(async () => {
    quick = await startServerHarness({ config: { authChallengeTimeout: 1 } });
  });
  afterAll(async () => {
    await quick.close();
  });

  it('ends the stream with a clear error when nobody answers', async () => {
    quick.service.pullBehaviour = async (request: PullRequest) => ({
      async run(emit) {
        emit({ status: 'Pulling from small', id: '1' });
        await request.channel?.ask({
          registry: REGISTRY,
          repository: 'small',
          lines: [PULL_SCOPE],
          renewal: false,
        });
      },
    });
    const lines = (
      await engineRequest(quick.socket, {
        method: 'POST',
        path: '/images/create?fromImage=r.example%3A5000%2Fsmall&tag=1&clientAuth=1&authChannel=1',
      })
    ).lines();
    const challenge = lines[1] as { aux: { authChallenge: { id: string; registry: string } } };
    expect(challenge.aux.authChallenge.registry).toBe(REGISTRY);
    expect(challenge.aux.authChallenge.id).toMatch(/^[0-9a-f]{32}$/);
    expect(lines.at(-1)).toMatchObject({
      errorDetail: { message: `no answer to the challenge of registry ${REGISTRY} within 1 s` },
    });
  });
});
