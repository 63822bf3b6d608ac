// Exchanges a credential for a bearer token at a challenge's realm. Three flows, chosen by the credential:
//
//   1. anonymous, or basic without offline access: GET realm?service=..&scope=..(one per scope)&account=<user>,
//      with Basic when there is a user (distribution token.md).
//   2. refresh token: POST realm, form grant_type=refresh_token (oauth.md).
//   3. basic with offline access (login): POST grant_type=password; token servers that do not speak OAuth2
//      answer 404, 401 (Artifactory), 400 or 405, and then the GET of flow 1 with offline_token=true is used.
//   4. device code (RFC 8628 polling): POST grant_type=urn:ietf:params:oauth:grant-type:device_code; an OAuth
//      error answer (authorization_pending, slow_down, …) is an OAuthErrorResponse naming the error code.
//
// The realm must already have passed checkRealm; a dispatcher built on address-guard.ts (the daemon's, or the
// registry's shared one when `registryHost` is given) holds its addresses to the same policy at connect time.
// Redirects are followed only within the realm's origin, so credentials never leave it. The body is capped; no
// error message carries a credential or the body.
import type { Dispatcher } from 'undici';
import { realmDispatcher } from './address-guard.ts';
import {
  AddressRefusedError,
  InvalidGrantError,
  OAuthErrorResponse,
  TokenRequestError,
  TokenUnauthorizedError,
} from './errors.ts';
import { BodyTooLargeError, readLimited } from './read-limited.ts';
import { realmRefused } from './realm-policy.ts';
import { type ScopeInput, scopeStrings } from './scope.ts';
import { parseTokenResponseText, type TokenResponse } from './token-response.ts';

export type TokenCredential =
  | { kind: 'anonymous' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'refresh'; refreshToken: string }
  | { kind: 'device'; deviceCode: string };

export interface FetchTokenOptions {
  realm: URL | string;
  service?: string | undefined;
  scopes: readonly ScopeInput[];
  credential: TokenCredential;
  /** Sent as client_id in OAuth2 requests and offline GETs. */
  clientId?: string;
  /** Ask for a refresh token (login). */
  offline?: boolean;
  /** Where requests go: a dispatcher, or how to make one at the first request that needs it. */
  dispatcher?: Dispatcher | (() => Promise<Dispatcher>);
  /** How a GET is sent when not through undici (the daemon's own wire, held to the same address policy). */
  get?: TokenGet;
  /**
   * The registry whose challenge named the realm. Without a dispatcher of the caller's, the requests then go through
   * that registry's guarded pool (address-guard.ts): the realm is reached only at an address the policy allows.
   */
  registryHost?: string;
  signal?: AbortSignal;
  /** Whole exchange, fallback included. Default 15 s, as distribution. */
  timeoutMs?: number;
  userAgent?: string;
  /** Clock for the expiry computation. */
  now?: () => Date;
}

/** A token server's answer, as undici and the daemon's wire both give it. */
export interface TokenHttpResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Uint8Array> & { destroy(): void; dump(): Promise<unknown> };
}

export type TokenGet = (
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
) => Promise<TokenHttpResponse>;

export const TOKEN_RESPONSE_LIMIT = 128 * 1024;
export const DEFAULT_CLIENT_ID = 'dockhand';
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_REDIRECTS = 5;
// Statuses that mean "this token server does not do the OAuth2 password grant": fall back to GET.
const OAUTH_FALLBACK_STATUSES = new Set([400, 401, 404, 405]);

interface HttpCall {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

interface HttpAnswer {
  status: number;
  text: string;
}

interface Context {
  options: FetchTokenOptions;
  signal: AbortSignal;
  realm: URL;
}

function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

function baseHeaders(options: FetchTokenOptions): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.userAgent) headers['user-agent'] = options.userAgent;
  return headers;
}

function getCall(context: Context, withOfflineToken: boolean): HttpCall {
  const { options } = context;
  const url = new URL(context.realm);
  if (options.service !== undefined) url.searchParams.append('service', options.service);
  for (const scope of scopeStrings(options.scopes)) url.searchParams.append('scope', scope);
  const headers = baseHeaders(options);
  const credential = options.credential;
  if (credential.kind === 'basic') {
    url.searchParams.append('account', credential.username);
    headers['authorization'] = basicAuthorization(credential.username, credential.password);
  }
  if (withOfflineToken) {
    url.searchParams.append('offline_token', 'true');
    url.searchParams.append('client_id', options.clientId ?? DEFAULT_CLIENT_ID);
  }
  return { method: 'GET', url, headers };
}

function postCall(context: Context, grant: Record<string, string>): HttpCall {
  const { options } = context;
  const form = new URLSearchParams(grant);
  if (options.service !== undefined) form.append('service', options.service);
  const scopes = scopeStrings(options.scopes);
  if (scopes.length > 0) form.append('scope', scopes.join(' '));
  form.append('client_id', options.clientId ?? DEFAULT_CLIENT_ID);
  form.append('access_type', 'offline');
  const headers = baseHeaders(options);
  headers['content-type'] = 'application/x-www-form-urlencoded';
  return { method: 'POST', url: new URL(context.realm), headers, body: form.toString() };
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown error';
}

// The caller's abort wins as is; a connection the address guard stopped is the realm's refusal; our timeout and
// network failures become TokenRequestError.
function transportFailure(context: Context, url: URL, status: number | undefined, error: unknown): unknown {
  if (error instanceof TokenRequestError) return error;
  if (error instanceof AddressRefusedError) return realmRefused(url, error.reason, error.message);
  if (context.options.signal?.aborted) return context.options.signal.reason;
  if (context.signal.aborted) {
    return new TokenRequestError(status, 'timeout', `token request to ${url.origin} timed out`, {
      cause: error,
    });
  }
  return new TokenRequestError(
    status,
    'network',
    `token request to ${url.origin} failed: ${describeNetworkError(error)}`,
    {
      cause: error,
    },
  );
}

async function send(context: Context, call: HttpCall): Promise<HttpAnswer> {
  let url = call.url;
  for (let hop = 0; ; hop++) {
    let response: TokenHttpResponse;
    try {
      response = await sendOnce(context, call, url);
    } catch (error) {
      throw transportFailure(context, url, undefined, error);
    }
    const status = response.statusCode;
    const location = response.headers['location'];
    if (status >= 300 && status < 400 && typeof location === 'string') {
      await response.body.dump();
      url = followRedirect(context, call, url, status, location, hop);
      continue;
    }
    const contentLength = Number(response.headers['content-length']);
    if (contentLength > TOKEN_RESPONSE_LIMIT) {
      response.body.destroy();
      throw new TokenRequestError(
        status,
        'too-large',
        `token response is larger than ${TOKEN_RESPONSE_LIMIT} bytes`,
      );
    }
    try {
      const body = await readLimited(response.body, TOKEN_RESPONSE_LIMIT, 'token response');
      return { status, text: body.toString('utf8') };
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        throw new TokenRequestError(status, 'too-large', error.message, { cause: error });
      }
      throw transportFailure(context, url, status, error);
    }
  }
}

async function sendOnce(context: Context, call: HttpCall, url: URL): Promise<TokenHttpResponse> {
  const { get } = context.options;
  if (get && call.method === 'GET') return get(url, call.headers, context.signal);
  // Loaded on first use: a daemon or CLI that never asks for a token does not carry undici.
  const { request } = await import('undici');
  const dispatcher = await dispatcherOf(context.options);
  return request(url, {
    method: call.method,
    headers: call.headers,
    body: call.body ?? null,
    signal: context.signal,
    ...(dispatcher ? { dispatcher } : {}),
  });
}

/** The caller's dispatcher, else the registry's guarded pool, else undici's global one. */
export async function dispatcherOf(options: {
  dispatcher?: Dispatcher | (() => Promise<Dispatcher>);
  registryHost?: string;
}): Promise<Dispatcher | undefined> {
  if (typeof options.dispatcher === 'function') return options.dispatcher();
  if (options.dispatcher) return options.dispatcher;
  return options.registryHost === undefined ? undefined : realmDispatcher(options.registryHost);
}

function followRedirect(
  context: Context,
  call: HttpCall,
  from: URL,
  status: number,
  location: string,
  hop: number,
): URL {
  if (hop >= MAX_REDIRECTS) {
    throw new TokenRequestError(
      status,
      'redirect',
      `token endpoint redirected more than ${MAX_REDIRECTS} times`,
    );
  }
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    throw new TokenRequestError(status, 'redirect', 'token endpoint redirected to an invalid URL');
  }
  // The credential is bound to the realm's origin; a redirect elsewhere would carry it away.
  if (target.origin !== context.realm.origin) {
    throw new TokenRequestError(
      status,
      'redirect',
      `token endpoint redirected from ${context.realm.origin} to ${target.origin}: not followed`,
    );
  }
  // 301/302/303 turn a POST into a GET, which would drop the grant: refuse rather than send a bare GET.
  if (call.method === 'POST' && status !== 307 && status !== 308) {
    throw new TokenRequestError(status, 'redirect', `token endpoint answered ${status} to a POST`);
  }
  return target;
}

// The server's explanation, from docker's token server (`details`), OAuth2 (`error_description`) or the
// registry error format (`errors[0].message`). Trimmed: it is shown to users, and it is untrusted.
function serverDetails(text: string): { details?: string; oauthError?: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof body !== 'object' || body === null) return {};
  const fields = body as Record<string, unknown>;
  const errors = fields['errors'];
  const firstError = Array.isArray(errors) ? (errors[0] as Record<string, unknown> | undefined) : undefined;
  const candidates = [
    fields['details'],
    fields['error_description'],
    firstError?.['message'],
    fields['message'],
  ];
  const details = candidates.find((c): c is string => typeof c === 'string' && c.trim() !== '');
  const result: { details?: string; oauthError?: string } = {};
  if (details !== undefined)
    result.details = details
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
      .trim()
      .slice(0, 300);
  if (typeof fields['error'] === 'string') result.oauthError = fields['error'];
  return result;
}

function answerOrThrow(context: Context, answer: HttpAnswer): TokenResponse {
  const { status, text } = answer;
  if (status >= 200 && status < 300) {
    return parseTokenResponseText(text, { now: context.options.now?.() ?? new Date(), status });
  }
  const { details, oauthError } = serverDetails(text);
  if (oauthError === 'invalid_grant') throw new InvalidGrantError(status);
  if (status === 401) throw new TokenUnauthorizedError(details);
  if (oauthError !== undefined && context.options.credential.kind === 'device') {
    throw new OAuthErrorResponse(status, oauthError, details);
  }
  throw new TokenRequestError(
    status,
    'status',
    `token endpoint ${context.realm.origin} answered ${status}${details ? `: ${details}` : ''}`,
  );
}

async function exchange(context: Context): Promise<TokenResponse> {
  const { credential, offline } = context.options;
  if (credential.kind === 'refresh') {
    const call = postCall(context, { grant_type: 'refresh_token', refresh_token: credential.refreshToken });
    return answerOrThrow(context, await send(context, call));
  }
  if (credential.kind === 'device') {
    const call = postCall(context, { grant_type: DEVICE_CODE_GRANT, device_code: credential.deviceCode });
    return answerOrThrow(context, await send(context, call));
  }
  if (credential.kind === 'basic' && offline) {
    const grant = { grant_type: 'password', username: credential.username, password: credential.password };
    const answer = await send(context, postCall(context, grant));
    if (!OAUTH_FALLBACK_STATUSES.has(answer.status)) return answerOrThrow(context, answer);
    return answerOrThrow(context, await send(context, getCall(context, true)));
  }
  return answerOrThrow(context, await send(context, getCall(context, offline === true)));
}

/** Fetches a token for `scopes` from `realm`. Throws TokenRequestError and its subclasses. */
export async function fetchToken(options: FetchTokenOptions): Promise<TokenResponse> {
  let realm: URL;
  try {
    realm = new URL(options.realm);
  } catch {
    throw new TokenRequestError(undefined, 'invalid-realm', 'token realm is not a URL', { field: 'realm' });
  }
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  return exchange({ options, signal, realm });
}
