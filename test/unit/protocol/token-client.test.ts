import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidGrantError,
  InvalidTokenResponseError,
  TokenRequestError,
  TokenUnauthorizedError,
} from '../../../protocol/errors.ts';
import { repositoryScope } from '../../../protocol/scope.ts';
import { fetchToken, TOKEN_RESPONSE_LIMIT } from '../../../protocol/token-client.ts';
import { json, startTokenServer, type TokenServer } from './token-server.ts';

const PASSWORD = 's3cret-Pa55';
const REFRESH = 'refresh-XYZ-123';
const basic = { kind: 'basic' as const, username: 'alice', password: PASSWORD };
const now = new Date('2030-01-01T00:00:00Z');

let server: TokenServer;
let other: TokenServer;
let realm: URL;

beforeAll(async () => {
  server = await startTokenServer();
  other = await startTokenServer();
});

afterAll(async () => {
  await server.close();
  await other.close();
});

beforeEach(() => {
  server.received.length = 0;
  other.received.length = 0;
  realm = new URL(`${server.origin}/token`);
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(String((error as Error).message)).not.toContain(PASSWORD);
    expect(String((error as Error).message)).not.toContain(REFRESH);
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('GET flow', () => {
  it('anonymous: service and one scope parameter per scope, no credentials', async () => {
    server.answer(json(200, { token: 'anon', expires_in: 300, issued_at: '2030-01-01T00:00:00Z' }));
    const token = await fetchToken({
      realm,
      service: 'registry.example.com',
      scopes: [repositoryScope('a/b', ['pull']), 'repository:c:pull', 'repository:a/b:push'],
      credential: { kind: 'anonymous' },
      now: () => now,
    });
    expect(token).toEqual({
      token: 'anon',
      expiresIn: 300,
      issuedAt: now,
      expiresAt: new Date('2030-01-01T00:05:00Z'),
    });
    const [req] = server.received;
    expect(req!.method).toBe('GET');
    expect(req!.url.pathname).toBe('/token');
    expect(req!.url.searchParams.get('service')).toBe('registry.example.com');
    expect(req!.url.searchParams.getAll('scope')).toEqual(['repository:a/b:pull,push', 'repository:c:pull']);
    expect(req!.url.searchParams.has('account')).toBe(false);
    expect(req!.url.searchParams.has('offline_token')).toBe(false);
    expect(req!.headers['authorization']).toBeUndefined();
  });

  it('basic: Basic header and account; keeps a query the realm already has', async () => {
    server.answer(json(200, { access_token: 'acc', token: 'tok' }));
    realm.search = '?foo=bar';
    const token = await fetchToken({
      realm,
      scopes: [],
      credential: basic,
      userAgent: 'dockhand-test',
      now: () => now,
    });
    expect(token.token).toBe('acc');
    expect(token.expiresIn).toBe(60);
    expect(token.expiresAt).toEqual(new Date('2030-01-01T00:01:00Z'));
    const [req] = server.received;
    expect(req!.headers['authorization']).toBe(
      `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`,
    );
    expect(req!.headers['user-agent']).toBe('dockhand-test');
    expect(req!.url.searchParams.get('account')).toBe('alice');
    expect(req!.url.searchParams.get('foo')).toBe('bar');
    expect(req!.url.searchParams.has('service')).toBe(false);
    expect(req!.url.searchParams.has('scope')).toBe(false);
  });

  it('anonymous offline GET asks offline_token with client_id', async () => {
    server.answer(json(200, { token: 't', refresh_token: 'r' }));
    const token = await fetchToken({ realm, scopes: [], credential: { kind: 'anonymous' }, offline: true });
    expect(token.refreshToken).toBe('r');
    expect(server.received[0]!.url.searchParams.get('offline_token')).toBe('true');
    expect(server.received[0]!.url.searchParams.get('client_id')).toBe('dockhand');
  });
});

describe('OAuth2 POST flows', () => {
  it('refresh token: form with grant, scope space-joined, client_id, access_type', async () => {
    server.answer(json(200, { access_token: 'fresh', refresh_token: 'rotated', expires_in: 900 }));
    const token = await fetchToken({
      realm,
      service: 'svc',
      scopes: ['repository:a:pull', 'repository:b:pull,push'],
      credential: { kind: 'refresh', refreshToken: REFRESH },
      clientId: 'docker',
    });
    expect(token.token).toBe('fresh');
    expect(token.refreshToken).toBe('rotated');
    expect(token.expiresIn).toBe(900);
    const [req] = server.received;
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req!.headers['authorization']).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(req!.body))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: REFRESH,
      service: 'svc',
      scope: 'repository:a:pull repository:b:pull,push',
      client_id: 'docker',
      access_type: 'offline',
    });
  });

  it('basic + offline: password grant when the server speaks OAuth2', async () => {
    server.answer(json(200, { access_token: 'a', refresh_token: 'r', expires_in: 900, scope: '' }));
    const token = await fetchToken({ realm, service: 'svc', scopes: [], credential: basic, offline: true });
    expect(token).toMatchObject({ token: 'a', refreshToken: 'r', scope: '' });
    expect(server.received).toHaveLength(1);
    expect(Object.fromEntries(new URLSearchParams(server.received[0]!.body))).toEqual({
      grant_type: 'password',
      username: 'alice',
      password: PASSWORD,
      service: 'svc',
      client_id: 'dockhand',
      access_type: 'offline',
    });
  });

  for (const status of [404, 401, 400, 405]) {
    it(`basic + offline: falls back to GET with offline_token on ${status}`, async () => {
      server.answer((req, res) => {
        if (req.method === 'POST') res.writeHead(status).end('{"details":"no oauth here"}');
        else json(200, { token: 'from-get', refresh_token: 'r2' })(req, res);
      });
      const token = await fetchToken({
        realm,
        service: 'svc',
        scopes: ['repository:a:pull'],
        credential: basic,
        offline: true,
      });
      expect(token).toMatchObject({ token: 'from-get', refreshToken: 'r2' });
      expect(server.received.map((r) => r.method)).toEqual(['POST', 'GET']);
      const get = server.received[1]!;
      expect(get.url.searchParams.get('offline_token')).toBe('true');
      expect(get.url.searchParams.get('client_id')).toBe('dockhand');
      expect(get.url.searchParams.get('account')).toBe('alice');
      expect(get.url.searchParams.getAll('scope')).toEqual(['repository:a:pull']);
      expect(get.headers['authorization']).toMatch(/^Basic /);
    });
  }

  it('basic + offline: a 500 on the POST is an error, no fallback', async () => {
    server.answer(json(500, { details: 'boom' }));
    const error = await failure(fetchToken({ realm, scopes: [], credential: basic, offline: true }));
    expect(error).toBeInstanceOf(TokenRequestError);
    expect((error as TokenRequestError).status).toBe(500);
    expect(error.message).toContain('boom');
    expect(server.received).toHaveLength(1);
  });

  it('invalid_grant is its own error', async () => {
    server.answer(json(400, { error: 'invalid_grant', error_description: 'bad token' }));
    const error = await failure(
      fetchToken({ realm, scopes: [], credential: { kind: 'refresh', refreshToken: REFRESH } }),
    );
    expect(error).toBeInstanceOf(InvalidGrantError);
    expect(error.message).toBe('refresh token revoked or already used: log in again');
    expect((error as InvalidGrantError).status).toBe(400);
  });
});

describe('errors', () => {
  it('401 carries the token server details', async () => {
    server.answer(json(401, { details: 'incorrect username or password' }));
    const error = await failure(fetchToken({ realm, scopes: [], credential: basic }));
    expect(error).toBeInstanceOf(TokenUnauthorizedError);
    expect(error.message).toBe('unauthorized: incorrect username or password');
    expect((error as TokenUnauthorizedError).status).toBe(401);
  });

  it('401 with registry-style errors, and with an empty body', async () => {
    server.answer(json(401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    expect((await failure(fetchToken({ realm, scopes: [], credential: basic }))).message).toBe(
      'unauthorized: authentication required',
    );
    server.answer((_req, res) => res.writeHead(401).end());
    const error = await failure(fetchToken({ realm, scopes: [], credential: basic }));
    expect(error).toBeInstanceOf(TokenUnauthorizedError);
    expect((error as TokenUnauthorizedError).details).toBeUndefined();
  });

  it('a password echoed by the server is the server’s text; our own messages never hold it', async () => {
    server.answer(json(403, {}));
    const error = await failure(fetchToken({ realm, scopes: [], credential: basic }));
    expect(error.message).toBe(`token endpoint ${server.origin} answered 403`);
  });

  it('refuses a body that is not JSON or has no token', async () => {
    server.answer((_req, res) => res.writeHead(200).end('<html>hi</html>'));
    expect(await failure(fetchToken({ realm, scopes: [], credential: basic }))).toBeInstanceOf(
      InvalidTokenResponseError,
    );
    server.answer(json(200, { expires_in: 60 }));
    expect(await failure(fetchToken({ realm, scopes: [], credential: basic }))).toMatchObject({
      field: 'token',
      reason: 'missing',
    });
  });

  it('caps the body at 128 KiB, chunked or with Content-Length', async () => {
    const big = JSON.stringify({ token: 'x'.repeat(TOKEN_RESPONSE_LIMIT) });
    server.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(big.slice(0, 70_000));
      res.end(big.slice(70_000));
    });
    expect(await failure(fetchToken({ realm, scopes: [], credential: { kind: 'anonymous' } }))).toMatchObject(
      {
        reason: 'too-large',
      },
    );
    server.answer((_req, res) => res.writeHead(200, { 'content-length': String(big.length) }).end(big));
    expect(await failure(fetchToken({ realm, scopes: [], credential: { kind: 'anonymous' } }))).toMatchObject(
      {
        reason: 'too-large',
      },
    );
    const fits = JSON.stringify({ token: 'x'.repeat(TOKEN_RESPONSE_LIMIT - 20) });
    server.answer((_req, res) => res.writeHead(200).end(fits));
    expect((await fetchToken({ realm, scopes: [], credential: { kind: 'anonymous' } })).token).toHaveLength(
      TOKEN_RESPONSE_LIMIT - 20,
    );
  });

  it('times out, fails on a closed port, and honours the caller’s abort', async () => {
    server.answer(() => {
      /* never answers */
    });
    expect(await failure(fetchToken({ realm, scopes: [], credential: basic, timeoutMs: 200 }))).toMatchObject(
      { reason: 'timeout' },
    );

    const closed = await startTokenServer();
    const closedRealm = `${closed.origin}/token`;
    await closed.close();
    expect(await failure(fetchToken({ realm: closedRealm, scopes: [], credential: basic }))).toMatchObject({
      reason: 'network',
      status: undefined,
    });

    const controller = new AbortController();
    const pending = fetchToken({ realm, scopes: [], credential: basic, signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    expect((await failure(pending)).message).toBe('caller gave up');
  });

  it('refuses a realm that is not a URL', async () => {
    expect(await failure(fetchToken({ realm: 'not a url', scopes: [], credential: basic }))).toMatchObject({
      field: 'realm',
    });
  });
});

describe('redirects', () => {
  it('follows a redirect within the realm origin', async () => {
    server.answer((req, res) => {
      if (req.url.pathname === '/token') res.writeHead(307, { location: '/v2/token' }).end();
      else json(200, { token: 'moved' })(req, res);
    });
    expect((await fetchToken({ realm, scopes: [], credential: basic })).token).toBe('moved');
    expect(server.received.map((r) => r.url.pathname)).toEqual(['/token', '/v2/token']);
    expect(server.received[1]!.headers['authorization']).toMatch(/^Basic /);
  });

  it('never follows a redirect to another origin, so the credential stays home', async () => {
    other.answer(json(200, { token: 'stolen' }));
    server.answer((_req, res) => res.writeHead(302, { location: `${other.origin}/token` }).end());
    const error = await failure(fetchToken({ realm, scopes: [], credential: basic }));
    expect(error).toMatchObject({ reason: 'redirect', status: 302 });
    expect(other.received).toHaveLength(0);
  });

  it('refuses a 302 to a POST and a redirect loop', async () => {
    server.answer((_req, res) => res.writeHead(302, { location: '/again' }).end());
    expect(
      await failure(
        fetchToken({ realm, scopes: [], credential: { kind: 'refresh', refreshToken: REFRESH } }),
      ),
    ).toMatchObject({ reason: 'redirect' });
    expect(await failure(fetchToken({ realm, scopes: [], credential: basic }))).toMatchObject({
      reason: 'redirect',
    });
    expect(server.received.length).toBe(1 + 6);
  });
});

describe('the caller’s wire', () => {
  it('carries the GETs, and a POST goes through the dispatcher made when the first POST needs it', async () => {
    const { Agent } = await import('undici');
    const { wireRequest } = await import('../../../daemon/distribution/transport/http1-wire.ts');
    const gets: string[] = [];
    const dispatchers: InstanceType<typeof Agent>[] = [];
    const options = {
      realm,
      service: 'svc',
      scopes: [repositoryScope('a', ['pull'])],
      get: (url: URL, headers: Record<string, string>, signal: AbortSignal) => {
        gets.push(url.href);
        const request = { url, headers, signal, lookup: undefined, secureContext: undefined };
        return wireRequest({ ...request, method: 'GET', bulk: false, idleTimeoutMs: 2000 });
      },
      dispatcher: async () => {
        const agent = new Agent();
        dispatchers.push(agent);
        return agent;
      },
    };
    server.answer(json(200, { token: 'by-get' }));
    expect((await fetchToken({ ...options, credential: basic })).token).toBe('by-get');
    expect(gets).toHaveLength(1);
    expect(dispatchers).toHaveLength(0);
    expect(server.received[0]!.headers['authorization']).toMatch(/^Basic /);
    expect(server.received[0]!.url.searchParams.get('scope')).toBe('repository:a:pull');

    server.answer(json(200, { access_token: 'by-post', refresh_token: 'r2', expires_in: 900 }));
    const posted = await fetchToken({ ...options, credential: { kind: 'refresh', refreshToken: REFRESH } });
    expect(posted.token).toBe('by-post');
    expect(server.received[1]!.method).toBe('POST');
    expect(gets).toHaveLength(1);
    expect(dispatchers).toHaveLength(1);
    await Promise.all(dispatchers.map((agent) => agent.close()));
  });
});
