import { describe, expect, it } from 'vitest';
import { InvalidTokenResponseError } from '../../../protocol/errors.ts';
import { parseTokenResponse, parseTokenResponseText } from '../../../protocol/token-response.ts';
import { loadVectors } from './vectors.ts';

interface Example {
  name: string;
  response?: Record<string, unknown>;
  response_verbatim?: string;
  cases?: { body: unknown; result?: string }[];
}

const { examples } = loadVectors<{ examples: Example[] }>('token-responses.json');
const now = new Date('2030-01-01T00:00:00Z');

// The spec's rules, written independently of the implementation: access_token wins, at least 60 s, from
// issued_at when it is a real time.
function expected(body: Record<string, unknown>) {
  const expiresIn = Math.max(typeof body['expires_in'] === 'number' ? body['expires_in'] : 60, 60);
  const issued = typeof body['issued_at'] === 'string' ? new Date(body['issued_at']) : now;
  const issuedAt = Number.isNaN(issued.getTime()) || issued.getUTCFullYear() <= 1 ? now : issued;
  return {
    token: body['access_token'] ?? body['token'],
    expiresIn,
    issuedAt,
    expiresAt: new Date(issuedAt.getTime() + expiresIn * 1000),
  };
}

const bodies: { name: string; body: Record<string, unknown> }[] = [];
for (const example of examples) {
  if (example.response) bodies.push({ name: example.name, body: example.response });
  for (const [i, c] of (example.cases ?? []).entries()) {
    if (typeof c.body === 'object')
      bodies.push({ name: `${example.name} #${i}`, body: c.body as Record<string, unknown> });
  }
}

describe('parseTokenResponse: shared vectors', () => {
  it('found the response bodies', () => {
    expect(bodies.length).toBeGreaterThanOrEqual(14);
  });

  for (const { name, body } of bodies) {
    it(name, () => {
      const parsed = parseTokenResponse(body, { now });
      expect(parsed).toMatchObject(expected(body));
      expect(parsed.refreshToken).toBe(body['refresh_token']);
    });
  }

  it('spec GET example: one hour from issued_at', () => {
    const spec = examples.find((e) => e.name === 'spec GET example')!;
    const parsed = parseTokenResponse(spec.response, { now });
    expect(parsed.expiresAt.toISOString()).toBe('2009-11-11T00:00:00.000Z');
  });

  it('containers/image: expires_in 1 is raised to 60, zero issued_at is now', () => {
    const cases = examples.find((e) => e.name === 'containers/image tests')!.cases!;
    expect(parseTokenResponse(cases[3]!.body, { now }).expiresAt.toISOString()).toBe(
      '2018-01-01T10:01:02.000Z',
    );
    expect(parseTokenResponse(cases[4]!.body, { now }).issuedAt).toEqual(now);
    expect(() => parseTokenResponseText(cases[0]!.body as string, { now })).toThrow(
      InvalidTokenResponseError,
    );
  });

  it('the spec refresh example is not JSON, and is refused as such', () => {
    const verbatim = examples.find((e) => e.response_verbatim)!.response_verbatim!;
    expect(() => parseTokenResponseText(verbatim, { now })).toThrow(
      expect.objectContaining({ field: 'body', reason: 'not-json' }),
    );
  });

  it('keeps the granted scope of OAuth2 answers', () => {
    expect(parseTokenResponse({ access_token: 'a', scope: 'repository:x:pull' }, { now }).scope).toBe(
      'repository:x:pull',
    );
  });
});

describe('parseTokenResponse: malformed bodies', () => {
  it.each([
    [null, 'body', 'not-an-object'],
    [[], 'body', 'not-an-object'],
    ['tok', 'body', 'not-an-object'],
    [{}, 'token', 'missing'],
    [{ token: '' }, 'token', 'missing'],
    [{ token: 42 }, 'token', 'not-a-string'],
    [{ access_token: {} }, 'access_token', 'not-a-string'],
    [{ token: 't', refresh_token: 7 }, 'refresh_token', 'not-a-string'],
  ])('%j → %s %s', (body, field, reason) => {
    expect(() => parseTokenResponse(body, { now })).toThrow(expect.objectContaining({ field, reason }));
  });

  it('treats unusable expires_in and issued_at as missing, and caps absurd lifetimes', () => {
    expect(
      parseTokenResponse({ token: 't', expires_in: 'soon', issued_at: 'yesterday' }, { now }),
    ).toMatchObject({
      expiresIn: 60,
      issuedAt: now,
    });
    expect(parseTokenResponse({ token: 't', expires_in: '600' }, { now }).expiresIn).toBe(600);
    expect(parseTokenResponse({ token: 't', expires_in: -5 }, { now }).expiresIn).toBe(60);
    const huge = parseTokenResponse({ token: 't', expires_in: 1e300 }, { now });
    expect(Number.isNaN(huge.expiresAt.getTime())).toBe(false);
  });

  it('does not quote the body in errors', () => {
    expect(() => parseTokenResponseText('secret-token-text', { now })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret') }),
    );
  });
});
