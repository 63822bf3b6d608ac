// The OAuth 2.0 device authorization grant (RFC 8628), for a user at a terminal:
// 1. POST client_id (and scope) to the device authorization endpoint; it answers a device code, a user code, the
//    verification URI (and a complete one with the code in it), the code's lifetime and a poll interval;
// 2. show the URI and user code to the user exactly as sent;
// 3. poll the token endpoint every `interval` seconds (5 when absent) with the device code:
//    `authorization_pending` → poll again; `slow_down` → add 5 s to this and every later interval (3.5);
//    `access_denied` / `expired_token` → stop with that reason; a token → done;
// 4. stop when the device code has expired by our own clock too, or when the caller aborts.
// The clock and the sleep are injectable so that a test can check the exact gaps between polls.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import {
  fetchToken,
  OAuthErrorResponse,
  TokenRequestError,
  type TokenResponse,
} from '../../protocol/index.ts';
import { DeviceLoginError } from '../errors.ts';
import { requestJson } from './http-json.ts';

export interface DevicePrompt {
  verificationUri: string;
  /** The URI with the user code in it, when the server sent one. */
  verificationUriComplete?: string;
  userCode: string;
  /** Seconds the user has to approve. */
  expiresIn: number;
}

export interface DeviceLoginOptions {
  deviceAuthorizationEndpoint: URL;
  tokenEndpoint: URL;
  clientId: string;
  scope?: string;
  /** The registry's token `service`, sent with each poll so the access token is for it. */
  service?: string;
  /** Called once with what the user must open and type. */
  onPrompt: (prompt: DevicePrompt) => void;
  /** Called before each wait, with the seconds about to be waited (for tests and progress). */
  onWait?: (seconds: number) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Milliseconds since the epoch. */
  now?: () => number;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  /** The registry whose login this is: without a dispatcher, its guarded pool holds the endpoints' addresses. */
  registryHost?: string;
}

export const DEFAULT_POLL_INTERVAL_S = 5;
export const SLOW_DOWN_STEP_S = 5;

interface DeviceAuthorization extends DevicePrompt {
  deviceCode: string;
  interval: number;
}

export async function deviceLogin(options: DeviceLoginOptions): Promise<TokenResponse> {
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? abortableSleep;
  const authorization = await requestDeviceCode(options);
  const { deviceCode, interval: firstInterval, ...prompt } = authorization;
  options.onPrompt(prompt);
  const deadline = now() + authorization.expiresIn * 1000;
  let interval = firstInterval;
  for (;;) {
    options.onWait?.(interval);
    await wait(interval * 1000, options.signal);
    if (now() >= deadline) {
      throw new DeviceLoginError('expired_token', 'the device code expired before the login was approved');
    }
    try {
      return await fetchToken({
        realm: options.tokenEndpoint,
        service: options.service,
        scopes: [],
        credential: { kind: 'device', deviceCode },
        clientId: options.clientId,
        ...(options.registryHost ? { registryHost: options.registryHost } : {}),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      if (!(err instanceof OAuthErrorResponse)) throw err;
      switch (err.error) {
        case 'authorization_pending':
          break;
        case 'slow_down':
          interval += SLOW_DOWN_STEP_S;
          break;
        case 'access_denied':
          throw new DeviceLoginError('access_denied', 'the login was denied at the verification page', {
            cause: err,
          });
        case 'expired_token':
          throw new DeviceLoginError(
            'expired_token',
            'the device code expired before the login was approved',
            {
              cause: err,
            },
          );
        default:
          throw new DeviceLoginError('server_error', err.message, { cause: err });
      }
    }
  }
}

async function requestDeviceCode(options: DeviceLoginOptions): Promise<DeviceAuthorization> {
  const url = options.deviceAuthorizationEndpoint;
  const answer = await requestJson(url, {
    form: { client_id: options.clientId, ...(options.scope ? { scope: options.scope } : {}) },
    ...(options.registryHost ? { registryHost: options.registryHost } : {}),
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (answer.status !== 200) {
    const error = (answer.body as { error?: unknown } | undefined)?.error;
    throw new TokenRequestError(
      answer.status,
      'device-authorization',
      `device authorization endpoint ${url.origin} answered ${answer.status}${typeof error === 'string' ? `: ${error}` : ''}`,
    );
  }
  return parseDeviceAuthorization(answer.body);
}

/** The endpoint's answer (RFC 8628 3.2) as a typed value; errors name the field. */
export function parseDeviceAuthorization(body: unknown): DeviceAuthorization {
  const invalid = (field: string, reason: string) =>
    new DeviceLoginError('invalid_response', `device authorization response: ${field} ${reason}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('body', 'is not an object');
  const fields = body as Record<string, unknown>;
  const text = (field: string, required: boolean): string | undefined => {
    const value = fields[field];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value === '') throw invalid(field, 'must be a non-empty string');
    return value;
  };
  const seconds = (field: string, fallback: number | undefined): number => {
    const value = fields[field];
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw invalid(field, 'must be a positive number of seconds');
    }
    return value;
  };
  const complete = text('verification_uri_complete', false);
  return {
    deviceCode: text('device_code', true) as string,
    userCode: text('user_code', true) as string,
    verificationUri: text('verification_uri', true) as string,
    ...(complete ? { verificationUriComplete: complete } : {}),
    expiresIn: seconds('expires_in', undefined),
    interval: seconds('interval', DEFAULT_POLL_INTERVAL_S),
  };
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, undefined, signal ? { signal } : {});
}
