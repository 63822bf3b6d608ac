// The clientAuth authorizer: before the stream a challenge is thrown for the HTTP 401; once streaming (side channel)
// it is asked in the stream and the answer authorizes the retry; answers with an expiry are renewed ahead of it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  ChallengeChannel,
  ClientAnswer,
  ClientChallenge,
} from '../../../daemon/distribution/auth/auth-mode.ts';
import { ChallengeMemory } from '../../../daemon/distribution/auth/challenge-memory.ts';
import {
  ForwardingAuthorizer,
  renewalLeadMs,
} from '../../../daemon/distribution/auth/forwarding-authorizer.ts';
import { ForwardedChallengeError } from '../../../daemon/distribution/errors.ts';
import { repositoryScope } from '../../../protocol/index.ts';

const HOST = 'registry.example:5000';
const ORIGIN = `https://${HOST}`;
const LINES = [`Bearer realm="https://auth.example/token",service="reg",scope="repository:small:pull"`];
const request = {
  endpoint: { host: HOST, origin: ORIGIN, secure: true },
  scopes: [repositoryScope('small', ['pull'])],
  repository: 'small',
};

class FakeChannel implements ChallengeChannel {
  streaming = true;
  readonly asked: ClientChallenge[] = [];
  constructor(readonly answer: (n: number) => ClientAnswer | Promise<ClientAnswer>) {}
  async ask(challenge: ClientChallenge): Promise<ClientAnswer> {
    this.asked.push(challenge);
    return this.answer(this.asked.length);
  }
}

/** An authorizer holding the token 'old' whose channel answers tok1, tok2, … */
function answeringWithNewTokens() {
  const channel = new FakeChannel((n) => ({ auth: { serveraddress: HOST, registrytoken: `tok${n}` } }));
  const authorizer = new ForwardingAuthorizer(
    { registrytoken: 'old' },
    ORIGIN,
    new ChallengeMemory(),
    channel,
  );
  return { channel, authorizer };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ForwardingAuthorizer', () => {
  it('throws the challenge for the HTTP 401 while the stream has not started', async () => {
    const channel = new FakeChannel(() => ({ auth: { registrytoken: 'x' } }));
    channel.streaming = false;
    const authorizer = new ForwardingAuthorizer({}, ORIGIN, new ChallengeMemory(), channel);
    await expect(authorizer.challenged(request, LINES)).rejects.toBeInstanceOf(ForwardedChallengeError);
    expect(channel.asked).toEqual([]);
  });

  it('asks in the stream once streaming, and authorizes the retry with the answer', async () => {
    const { channel, authorizer } = answeringWithNewTokens();
    expect(await authorizer.authorization(request)).toBe('Bearer old');
    await authorizer.challenged(request, LINES);
    expect(channel.asked).toEqual([{ registry: HOST, repository: 'small', lines: LINES, renewal: false }]);
    expect(await authorizer.authorization(request)).toBe('Bearer tok1');
    // Another host gets nothing the answer was not given for.
    const other = {
      ...request,
      endpoint: { host: 'cdn.example', origin: 'https://cdn.example', secure: true },
    };
    expect(await authorizer.authorization(other)).toBeUndefined();
  });

  it('answers a refusal of a credential it has replaced since with the new one, without asking again', async () => {
    const { channel, authorizer } = answeringWithNewTokens();
    // Two requests went out with the old token; the first refusal is asked, the late one takes its answer.
    await authorizer.challenged(request, LINES, 'Bearer old');
    await authorizer.challenged(request, LINES, 'Bearer old');
    expect(channel.asked).toHaveLength(1);
    expect(await authorizer.authorization(request)).toBe('Bearer tok1');
    // A refusal of the current answer is asked again.
    await authorizer.challenged(request, LINES, 'Bearer tok1');
    expect(channel.asked).toHaveLength(2);
  });

  it('renews an answer with an expiry on the first request in the last quarter of its life', async () => {
    const channel = new FakeChannel((n) => ({
      auth: { registrytoken: `tok${n}` },
      expiresAt: Date.now() + 8_000,
    }));
    const memory = new ChallengeMemory();
    const authorizer = new ForwardingAuthorizer({}, ORIGIN, memory, channel);
    await authorizer.challenged(request, LINES);
    vi.advanceTimersByTime(8_000 - renewalLeadMs(8_000) - 10);
    expect(await authorizer.authorization(request)).toBe('Bearer tok1');
    // Idle through the window: nothing is asked until a request needs the host again.
    vi.advanceTimersByTime(1_000);
    expect(channel.asked).toHaveLength(1);
    expect(await authorizer.authorization(request)).toBe('Bearer tok2');
    expect(channel.asked[1]).toEqual({ registry: HOST, repository: 'small', lines: LINES, renewal: true });
    expect(await authorizer.authorization(request)).toBe('Bearer tok2');
    expect(channel.asked).toHaveLength(2);
  });

  it('holds the requests that arrive while a renewal is asked until it is answered', async () => {
    let answer: (value: ClientAnswer) => void = () => undefined;
    const channel = new FakeChannel(() => new Promise<ClientAnswer>((resolve) => (answer = resolve)));
    const memory = new ChallengeMemory();
    memory.remember(request.endpoint, LINES);
    const authorizer = new ForwardingAuthorizer(
      { registrytokens: { [HOST]: 'first' }, registrytokenttl: { [HOST]: 4 } },
      ORIGIN,
      memory,
      channel,
    );
    vi.advanceTimersByTime(3_000);
    const first = authorizer.authorization(request);
    const second = authorizer.authorization(request);
    await vi.advanceTimersByTimeAsync(0);
    expect(channel.asked).toHaveLength(1);
    answer({ auth: { registrytoken: 'renewed' } });
    expect(await Promise.all([first, second])).toEqual(['Bearer renewed', 'Bearer renewed']);
  });

  it("renews the request's own tokens from their registrytokenttl, with the host's last challenge", async () => {
    const memory = new ChallengeMemory();
    memory.remember(request.endpoint, LINES);
    const channel = new FakeChannel(() => ({ auth: { registrytoken: 'renewed' } }));
    const authorizer = new ForwardingAuthorizer(
      { registrytokens: { [HOST]: 'first' }, registrytokenttl: { [HOST]: 4 } },
      ORIGIN,
      memory,
      channel,
    );
    expect(await authorizer.authorization(request)).toBe('Bearer first');
    vi.advanceTimersByTime(3_000);
    expect(await authorizer.authorization(request)).toBe('Bearer renewed');
    expect(channel.asked).toEqual([{ registry: HOST, repository: 'small', lines: LINES, renewal: true }]);
  });

  it('keeps the lead between 1 and 30 seconds', () => {
    expect(renewalLeadMs(2_000)).toBe(1_000);
    expect(renewalLeadMs(60_000)).toBe(15_000);
    expect(renewalLeadMs(300_000)).toBe(30_000);
  });
});
