// The token endpoint's JSON body (distribution token.md and oauth.md) as a typed value. Servers differ:
// `token` or `access_token` or both, `expires_in` missing (GHCR) or below the 60 s floor, `issued_at` missing
// or Go's zero time. The rules are the spec's: at least 60 s, counted from `issued_at` when given.
import { InvalidTokenResponseError } from './errors.ts';

export interface TokenResponse {
  token: string;
  /** Seconds, after applying the 60 s default and floor. */
  expiresIn: number;
  issuedAt: Date;
  expiresAt: Date;
  /** Only when the server returned one (offline access, or a rotated refresh token). */
  refreshToken?: string;
  /** OAuth2 responses name the scope actually granted (possibly less than asked). */
  scope?: string;
  /**
   * `expires_in` as the server sent it, when below the 60 s floor: a token server that says 5 s means it, and a
   * client renewing ahead of expiry must go by it (the floor only keeps caches from asking too often).
   */
  sentExpiresIn?: number;
}

/** When the token stops working as its server said (ms since the epoch), the 60 s floor not applied. */
export function tokenEndsAt(response: TokenResponse): number {
  if (response.sentExpiresIn === undefined) return response.expiresAt.getTime();
  return Math.min(response.expiresAt.getTime(), response.issuedAt.getTime() + response.sentExpiresIn * 1000);
}

export const DEFAULT_EXPIRES_IN = 60;
export const MIN_EXPIRES_IN = 60;
// A lifetime longer than this is a server bug; capping keeps Date arithmetic finite.
export const MAX_EXPIRES_IN = 366 * 24 * 3600;

function nonEmptyString(body: Record<string, unknown>, field: string, status: number): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new InvalidTokenResponseError(
      status,
      field,
      'not-a-string',
      `token response field ${field} is not a string`,
    );
  }
  return value;
}

function expiresInOf(value: unknown): number {
  const seconds = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return DEFAULT_EXPIRES_IN;
  return Math.min(Math.max(Math.floor(seconds), MIN_EXPIRES_IN), MAX_EXPIRES_IN);
}

// Go's zero time ("0001-01-01T00:00:00Z"), unparsable values and times further ahead than any token lives mean
// "not given" (the last would also put expiresAt past the end of Date's range).
function issuedAtOf(value: unknown, now: Date): Date {
  if (typeof value !== 'string') return now;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || new Date(ms).getUTCFullYear() <= 1) return now;
  if (ms > now.getTime() + MAX_EXPIRES_IN * 1000) return now;
  return new Date(ms);
}

/**
 * Turns a parsed JSON body into a TokenResponse. `access_token` wins when both are present, as in
 * distribution, oras-go and go-containerregistry.
 */
export function parseTokenResponse(body: unknown, options: { now: Date; status?: number }): TokenResponse {
  const status = options.status ?? 200;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidTokenResponseError(
      status,
      'body',
      'not-an-object',
      'token response is not a JSON object',
    );
  }
  const fields = body as Record<string, unknown>;
  const token = nonEmptyString(fields, 'access_token', status) ?? nonEmptyString(fields, 'token', status);
  if (token === undefined) {
    throw new InvalidTokenResponseError(
      status,
      'token',
      'missing',
      'token response has neither token nor access_token',
    );
  }
  const expiresIn = expiresInOf(fields['expires_in']);
  const sent = fields['expires_in'];
  const issuedAt = issuedAtOf(fields['issued_at'], options.now);
  const response: TokenResponse = {
    token,
    expiresIn,
    issuedAt,
    expiresAt: new Date(issuedAt.getTime() + expiresIn * 1000),
  };
  if (typeof sent === 'number' && Number.isFinite(sent) && sent > 0 && sent < MIN_EXPIRES_IN) {
    response.sentExpiresIn = sent;
  }
  const refreshToken = nonEmptyString(fields, 'refresh_token', status);
  if (refreshToken !== undefined) response.refreshToken = refreshToken;
  const scope = fields['scope'];
  if (typeof scope === 'string') response.scope = scope;
  return response;
}

/** Parses the body text; a body that is not JSON is an InvalidTokenResponseError (the text is not quoted). */
export function parseTokenResponseText(text: string, options: { now: Date; status?: number }): TokenResponse {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidTokenResponseError(
      options.status ?? 200,
      'body',
      'not-json',
      'token response is not JSON',
    );
  }
  return parseTokenResponse(body, options);
}
