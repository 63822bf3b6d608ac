// The pending logins of the OAuth device authorization grant (RFC 8628): device codes with their user codes, the
// state a test moves them through (approve, deny, expire) and the answers a poll gets: authorization_pending,
// slow_down (as many times as a test asked), access_denied, expired_token, or the approving user once.
import { randomBytes, randomInt } from 'node:crypto';

export type DeviceState = 'pending' | 'approved' | 'denied' | 'used';

export interface DeviceCodeInfo {
  userCode: string;
  clientId: string;
  state: DeviceState;
  expiresAt: number;
}

export interface DevicePoll {
  time: number;
  userCode: string | undefined;
  /** The OAuth error answered, or 'token'. */
  answer: string;
}

export type PollOutcome = { ok: true; user: string } | { ok: false; error: string };

interface Entry extends DeviceCodeInfo {
  user: string | undefined;
}

// RFC 8628 6.1: a base-20 alphabet without vowels, easy to type, no words.
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

export class DeviceCodes {
  interval: number;
  expiresIn: number;
  readonly #byDeviceCode = new Map<string, Entry>();
  #slowDowns = 0;
  #polls: DevicePoll[] = [];

  constructor(interval: number, expiresIn: number) {
    this.interval = interval;
    this.expiresIn = expiresIn;
  }

  issue(clientId: string): { deviceCode: string; userCode: string } {
    const deviceCode = `rig-dc.${randomBytes(24).toString('base64url')}`;
    let userCode = '';
    for (let i = 0; i < 8; i++) userCode += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
    userCode = `${userCode.slice(0, 4)}-${userCode.slice(4)}`;
    this.#byDeviceCode.set(deviceCode, {
      userCode,
      clientId,
      state: 'pending',
      expiresAt: Date.now() + this.expiresIn * 1000,
      user: undefined,
    });
    return { deviceCode, userCode };
  }

  poll(deviceCode: string): PollOutcome {
    const entry = this.#byDeviceCode.get(deviceCode);
    const outcome = this.#answer(entry);
    this.#polls.push({
      time: Date.now(),
      userCode: entry?.userCode,
      answer: outcome.ok ? 'token' : outcome.error,
    });
    return outcome;
  }

  #answer(entry: Entry | undefined): PollOutcome {
    if (entry === undefined || entry.state === 'used') return { ok: false, error: 'invalid_grant' };
    if (Date.now() >= entry.expiresAt) return { ok: false, error: 'expired_token' };
    if (entry.state === 'denied') return { ok: false, error: 'access_denied' };
    if (entry.state === 'pending') {
      if (this.#slowDowns > 0) {
        this.#slowDowns--;
        return { ok: false, error: 'slow_down' };
      }
      return { ok: false, error: 'authorization_pending' };
    }
    entry.state = 'used';
    return { ok: true, user: entry.user ?? '' };
  }

  pending(): DeviceCodeInfo[] {
    return [...this.#byDeviceCode.values()]
      .filter((e) => e.state === 'pending' && Date.now() < e.expiresAt)
      .map(({ user: _user, ...info }) => ({ ...info }));
  }

  approve(userCode: string, user: string): void {
    this.#pendingEntry(userCode).user = user;
    this.#pendingEntry(userCode).state = 'approved';
  }

  deny(userCode: string): void {
    this.#pendingEntry(userCode).state = 'denied';
  }

  expire(userCode: string): void {
    this.#pendingEntry(userCode).expiresAt = Date.now();
  }

  /** The next `count` polls of a pending code answer slow_down. */
  slowDown(count: number): void {
    this.#slowDowns += count;
  }

  polls(): DevicePoll[] {
    return this.#polls.map((p) => ({ ...p }));
  }

  #pendingEntry(userCode: string): Entry {
    for (const entry of this.#byDeviceCode.values()) {
      if (entry.userCode === userCode && entry.state === 'pending' && Date.now() < entry.expiresAt)
        return entry;
    }
    throw new Error(`token server: no pending device login with user code ${userCode}`);
  }
}
