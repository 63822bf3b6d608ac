// Token-endpoint edge cases a real registry will not produce on demand, answered by msw.
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthChallenge,
  createMemoryTokenStore,
  createOAuthChallengeHandler,
  InvalidGrantError,
  parseWwwAuthenticate,
  type TokenEntry,
  type TokenStore,
} from '../../../client/index.ts';
import { FetchDispatcher } from './fetch-dispatcher.ts';

const REALM = 'https://auth.example.com/token';
const REGISTRY = 'registry.example.com';
const SCOPE = 'repository:team/app:pull';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function challenge(options: { scope?: string; attempt?: number; error?: string } = {}): AuthChallenge {
  const line =
    `Bearer realm="${REALM}",service="${REGISTRY}",scope="${options.scope ?? SCOPE}"` +
    (options.error ? `,error="${options.error}"` : '');
  return {
    registry: REGISTRY,
    repository: 'team/app',
    lines: [line],
    challenges: parseWwwAuthenticate(line),
    attempt: options.attempt ?? 1,
  };
}

interface TokenPost {
  form: Record<string, string>;
}

/** A token endpoint answering POSTs with `answer(form)`; records what it received. */
function tokenEndpoint(answer: (form: Record<string, string>) => Response | Promise<Response>): TokenPost[] {
  const posts: TokenPost[] = [];
  server.use(
    http.post(REALM, async ({ request }) => {
      const form = Object.fromEntries(new URLSearchParams(await request.text()));
      posts.push({ form });
      return answer(form);
    }),
  );
  return posts;
}

/** A token endpoint that rotates: the nth refresh answers access token `a<n>` and refresh token `r<n+1>`. */
function rotatingEndpoint(expiresIn?: number): TokenPost[] {
  let n = 0;
  return tokenEndpoint(() =>
    HttpResponse.json({
      access_token: `a${++n}`,
      refresh_token: `r${n + 1}`,
      ...(expiresIn === undefined ? {} : { expires_in: expiresIn }),
    }),
  );
}

/** A clock the test moves forward: `clock.advance(ms)`. */
function testClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}

function handlerFor(store: TokenStore, now?: () => number) {
  return createOAuthChallengeHandler({
    store,
    clientId: 'dockhand-test',
    dispatcher: new FetchDispatcher(),
    ...(now ? { now } : {}),
  });
}

describe('OAuth challenge handler', () => {
  it('refreshes with the documented form and answers the access token for the challenged host', async () => {
    const store = createMemoryTokenStore({ [REGISTRY]: { username: 'alice', refreshToken: 'r1' } });
    const posts = tokenEndpoint(() =>
      HttpResponse.json({ access_token: 'a1', refresh_token: 'r2', expires_in: 300 }),
    );
    const before = Date.now();
    const answer = await handlerFor(store)(challenge());
    expect(answer).toMatchObject({ serveraddress: REGISTRY, registrytoken: 'a1' });
    // The answer says when its token ends, so the operation can renew ahead of it.
    expect(answer?.expiresAt).toBeGreaterThanOrEqual(before + 300_000);
    expect(posts[0]!.form).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'r1',
      service: REGISTRY,
      scope: SCOPE,
      client_id: 'dockhand-test',
      access_type: 'offline',
    });
    expect(await store.get(REGISTRY)).toEqual({
      username: 'alice',
      refreshToken: 'r2',
      accessToken: 'a1',
      accessTokenFor: JSON.stringify([REGISTRY, REALM, REGISTRY, SCOPE]),
      expiresAt: expect.any(Number),
    });
  });

  it.each([
    ['token only', { token: 't-only' }, 't-only'],
    ['access_token only', { access_token: 'a-only' }, 'a-only'],
    ['both (access_token wins)', { token: 't', access_token: 'a' }, 'a'],
  ])('reads %s', async (_name, body, expected) => {
    const store = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'r1' } });
    tokenEndpoint(() => HttpResponse.json(body));
    expect((await handlerFor(store)(challenge()))?.registrytoken).toBe(expected);
  });

  it('keeps the old refresh token when the answer has none, and uses it again', async () => {
    const store = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'r1' } });
    const posts = tokenEndpoint(() => HttpResponse.json({ access_token: 'a', expires_in: 300 }));
    const handler = handlerFor(store);
    await handler(challenge());
    expect(await store.get(REGISTRY)).toEqual({ refreshToken: 'r1' });
    await handler(challenge({ scope: 'repository:team/other:pull' }));
    expect(posts.map((p) => p.form['refresh_token'])).toEqual(['r1', 'r1']);
  });

  it('caches access tokens per realm, service and scope until they expire (60 s without expires_in)', async () => {
    const clock = testClock();
    const store = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'r1' } });
    const posts = rotatingEndpoint();
    const handler = handlerFor(store, clock.now);
    expect((await handler(challenge()))?.registrytoken).toBe('a1');
    expect((await handler(challenge()))?.registrytoken).toBe('a1');
    expect(posts).toHaveLength(1);
    // Another scope is another token.
    expect((await handler(challenge({ scope: 'repository:team/other:pull' })))?.registrytoken).toBe('a2');
    // 60 s is the default lifetime; it is refreshed a margin (10 s) before that.
    clock.advance(51_000);
    expect((await handler(challenge()))?.registrytoken).toBe('a3');
    expect(posts.map((p) => p.form['refresh_token'])).toEqual(['r1', 'r2', 'r3']);
  });

  it('refreshes again instead of reusing the cached token when challenged a second time', async () => {
    const store = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'r1' } });
    rotatingEndpoint(600);
    const handler = handlerFor(store);
    expect((await handler(challenge()))?.registrytoken).toBe('a1');
    expect((await handler(challenge({ attempt: 2 })))?.registrytoken).toBe('a2');
    expect((await handler(challenge({ error: 'invalid_token' })))?.registrytoken).toBe('a3');
  });

  it('reports invalid_grant as "refresh token revoked or already used: log in again"', async () => {
    const store = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'spent' } });
    tokenEndpoint(() => HttpResponse.json({ error: 'invalid_grant' }, { status: 400 }));
    const err = await handlerFor(store)(challenge()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidGrantError);
    expect((err as Error).message).toBe('refresh token revoked or already used: log in again');
    expect(await store.get(REGISTRY)).toEqual({ refreshToken: 'spent' });
  });

  it('makes exactly one refresh for ten concurrent challenges while the token server is slow', async () => {
    const store = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'r1' } });
    const posts = tokenEndpoint(async () => {
      await new Promise((r) => setTimeout(r, 200));
      return HttpResponse.json({ access_token: 'slow', refresh_token: 'r2', expires_in: 300 });
    });
    const handler = handlerFor(store);
    const answers = await Promise.all(Array.from({ length: 10 }, () => handler(challenge())));
    expect(posts).toHaveLength(1);
    expect(new Set(answers.map((a) => a?.registrytoken))).toEqual(new Set(['slow']));
    expect((await store.get(REGISTRY))?.refreshToken).toBe('r2');
  });

  it('serialises refreshes for different scopes of one host, so a rotated token is never reused', async () => {
    const store = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'r1' } });
    let n = 1;
    const posts = tokenEndpoint(async () => {
      await new Promise((r) => setTimeout(r, 50));
      n++;
      return HttpResponse.json({ access_token: `a${n}`, refresh_token: `r${n}`, expires_in: 300 });
    });
    const handler = handlerFor(store);
    await Promise.all(
      ['a', 'b', 'c'].map((repo) => handler(challenge({ scope: `repository:team/${repo}:pull` }))),
    );
    expect(posts.map((p) => p.form['refresh_token'])).toEqual(['r1', 'r2', 'r3']);
    expect((await store.get(REGISTRY))?.refreshToken).toBe('r4');
  });

  it('persists the rotated refresh token before the handler resolves', async () => {
    const inner = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'r1' } });
    const events: string[] = [];
    const slowStore: TokenStore = {
      ...inner,
      async set(host: string, entry: TokenEntry) {
        events.push('set:start');
        await new Promise((r) => setTimeout(r, 100));
        await inner.set(host, entry);
        events.push('set:done');
      },
    };
    tokenEndpoint(() => HttpResponse.json({ access_token: 'a', refresh_token: 'r2', expires_in: 300 }));
    await handlerFor(slowStore)(challenge()).then(() => events.push('resolved'));
    expect(events).toEqual(['set:start', 'set:done', 'resolved']);
  });

  it('re-reads the store under the lock and uses a token another holder rotated meanwhile', async () => {
    const inner = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'stale' } });
    const store: TokenStore = {
      ...inner,
      withLock: (host, fn) =>
        inner.withLock(host, async () => {
          // What another process did while we waited for the lock.
          await inner.set(host, { refreshToken: 'rotated-elsewhere' });
          return fn();
        }),
    };
    const posts = tokenEndpoint(() => HttpResponse.json({ access_token: 'a', refresh_token: 'next' }));
    await handlerFor(store)(challenge());
    expect(posts[0]!.form['refresh_token']).toBe('rotated-elsewhere');
    expect((await inner.get(REGISTRY))?.refreshToken).toBe('next');
  });

  it('uses the access token another process stored for the same realm, service and scope, while it lasts', async () => {
    const clock = testClock();
    const store = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'r1' } });
    const posts = rotatingEndpoint(300);
    // Two handlers stand for two processes: separate in-memory caches, one store.
    expect((await handlerFor(store, clock.now)(challenge()))?.registrytoken).toBe('a1');
    expect((await handlerFor(store, clock.now)(challenge()))?.registrytoken).toBe('a1');
    expect(posts).toHaveLength(1);
    // Not for another scope, nor after the registry refused it, nor with less than 10 s left.
    expect(
      (await handlerFor(store, clock.now)(challenge({ scope: 'repository:team/b:pull' })))?.registrytoken,
    ).toBe('a2');
    expect((await handlerFor(store, clock.now)(challenge({ attempt: 2 })))?.registrytoken).toBe('a3');
    clock.advance(291_000);
    expect((await handlerFor(store, clock.now)(challenge()))?.registrytoken).toBe('a4');
    expect(posts.map((p) => p.form['refresh_token'])).toEqual(['r1', 'r2', 'r3', 'r4']);
  });

  it('fetches an anonymous token (GET, no Authorization) when nothing is stored for the host', async () => {
    const store = createMemoryTokenStore();
    const gets: Request[] = [];
    server.use(
      http.get(REALM, ({ request }) => {
        gets.push(request);
        return HttpResponse.json({ token: 'anon' });
      }),
    );
    expect((await handlerFor(store)(challenge()))?.registrytoken).toBe('anon');
    expect(gets[0]!.headers.get('authorization')).toBeNull();
    expect(new URL(gets[0]!.url).searchParams.get('scope')).toBe(SCOPE);
  });

  it('refuses a realm on a link-local address before sending the refresh token', async () => {
    const store = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'r1' } });
    const line = 'Bearer realm="https://169.254.169.254/latest/meta-data",service="x"';
    const err = await handlerFor(store)({
      registry: REGISTRY,
      repository: 'team/app',
      lines: [line],
      challenges: parseWwwAuthenticate(line),
      attempt: 1,
    }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('RealmRefusedError');
  });

  it('declines (undefined) a challenge without a Bearer scheme', async () => {
    const store = createMemoryTokenStore({ [REGISTRY]: { refreshToken: 'r1' } });
    const line = 'Basic realm="registry"';
    expect(
      await handlerFor(store)({
        registry: REGISTRY,
        repository: 'a',
        lines: [line],
        challenges: parseWwwAuthenticate(line),
        attempt: 1,
      }),
    ).toBeUndefined();
  });
});
