// The device authorization grant (RFC 8628) against the rig's token server, with a fake clock and sleep: the
// exact gaps between polls, slow_down adding 5 s to this and every later gap, and the endings.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceLoginError, type DevicePrompt, deviceLogin } from '../../../client/index.ts';
import { startTokenServer, type TokenServer } from '../../rig/token-server.ts';

let tokens: TokenServer;

beforeAll(async () => {
  tokens = await startTokenServer({ users: { testuser: 'testpass' } });
});

afterAll(async () => {
  await tokens.stop();
});

/** A clock that only moves when the flow sleeps, and the sleeps it was asked for. */
function fakeTime(onSleep: (gaps: number[]) => void = () => {}) {
  let now = 1_000_000;
  const gaps: number[] = [];
  return {
    gaps,
    now: () => now,
    sleep: async (ms: number) => {
      gaps.push(ms);
      now += ms;
      onSleep(gaps);
    },
  };
}

function login(time: ReturnType<typeof fakeTime>, prompts: DevicePrompt[] = []) {
  return deviceLogin({
    deviceAuthorizationEndpoint: new URL(`${tokens.url}/device/code`),
    tokenEndpoint: new URL(tokens.realm),
    clientId: 'device-test',
    service: tokens.service,
    onPrompt: (prompt) => prompts.push(prompt),
    sleep: time.sleep,
    now: time.now,
  });
}

describe('deviceLogin', () => {
  it('waits the interval, then 5 s more after each slow_down, for this and every later poll', async () => {
    tokens.device.setInterval(5);
    tokens.device.slowDown(2);
    // Polls: slow_down, slow_down, authorization_pending, then approved before the fourth.
    const time = fakeTime((gaps) => {
      const pending = tokens.device.pending()[0];
      if (gaps.length === 4 && pending) tokens.device.approve(pending.userCode);
    });
    const prompts: DevicePrompt[] = [];
    const token = await login(time, prompts);
    expect(time.gaps).toEqual([5000, 10_000, 15_000, 15_000]);
    expect(token.refreshToken).toMatch(/^rig-rt\./);
    expect(tokens.isRefreshTokenValid(token.refreshToken as string)).toBe(true);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]?.verificationUri).toBe(`${tokens.url}/device`);
    expect(prompts[0]?.verificationUriComplete).toBe(
      `${tokens.url}/device?user_code=${prompts[0]?.userCode}`,
    );
  });

  it('ends with access_denied when the user denies', async () => {
    tokens.device.setInterval(5);
    const time = fakeTime(() => {
      const pending = tokens.device.pending()[0];
      if (pending) tokens.device.deny(pending.userCode);
    });
    const error = await login(time).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DeviceLoginError);
    expect((error as DeviceLoginError).reason).toBe('access_denied');
    expect(time.gaps).toEqual([5000]);
  });

  it('ends with expired_token when the server says the code expired', async () => {
    const time = fakeTime((gaps) => {
      const pending = tokens.device.pending()[0];
      if (gaps.length === 2 && pending) tokens.device.expire(pending.userCode);
    });
    const error = await login(time).catch((err: unknown) => err);
    expect((error as DeviceLoginError).reason).toBe('expired_token');
    expect(time.gaps).toEqual([5000, 5000]);
  });

  it('stops by its own clock once expires_in has passed, without another poll', async () => {
    const time = fakeTime();
    const before = tokens.device.polls().length;
    const error = await login({ ...time, sleep: async (ms) => time.sleep(ms * 200) }).catch(
      (err: unknown) => err,
    );
    expect((error as DeviceLoginError).reason).toBe('expired_token');
    expect(tokens.device.polls().length).toBe(before);
  });
});
