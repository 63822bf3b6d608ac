import { describe, expect, it, vi } from 'vitest';
import { repositoryScope } from '../../../protocol/scope.ts';
import {
  credentialFingerprint,
  refreshMarginMs,
  TokenCache,
  tokenCacheKey,
} from '../../../protocol/token-cache.ts';
import type { TokenResponse } from '../../../protocol/token-response.ts';
import { deferred } from '../../helpers/deferred.ts';

const T0 = Date.parse('2030-01-01T00:00:00Z');

function clock() {
  let now = T0;
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

function token(value: string, expiresIn: number, issuedAtMs = T0): TokenResponse {
  return {
    token: value,
    expiresIn,
    issuedAt: new Date(issuedAtMs),
    expiresAt: new Date(issuedAtMs + expiresIn * 1000),
  };
}

describe('tokenCacheKey', () => {
  const base = {
    realm: 'https://auth.example.com/token',
    service: 'reg',
    credential: { kind: 'anonymous' as const },
  };

  it('ignores scope order, duplicates and action order', () => {
    const a = tokenCacheKey({ ...base, scopes: ['repository:a:push,pull', 'repository:b:pull'] });
    const b = tokenCacheKey({
      ...base,
      scopes: [repositoryScope('b', ['pull']), 'repository:a:pull', 'repository:a:push'],
    });
    expect(a).toBe(b);
  });

  it('differs by realm, service, scopes and credential, and never holds the secret', () => {
    const keys = [
      tokenCacheKey({ ...base, scopes: ['repository:a:pull'] }),
      tokenCacheKey({ ...base, realm: 'https://other/token', scopes: ['repository:a:pull'] }),
      tokenCacheKey({ ...base, service: 'other', scopes: ['repository:a:pull'] }),
      tokenCacheKey({ ...base, scopes: ['repository:a:pull,push'] }),
      tokenCacheKey({
        ...base,
        scopes: ['repository:a:pull'],
        credential: { kind: 'basic', username: 'u', password: 'pw-1' },
      }),
      tokenCacheKey({
        ...base,
        scopes: ['repository:a:pull'],
        credential: { kind: 'basic', username: 'u', password: 'pw-2' },
      }),
      tokenCacheKey({
        ...base,
        scopes: ['repository:a:pull'],
        credential: { kind: 'refresh', refreshToken: 'rt-1' },
      }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.join()).not.toMatch(/pw-1|pw-2|rt-1/);
    expect(credentialFingerprint({ kind: 'basic', username: 'u', password: 'pw-1' })).toMatch(
      /^basic:[0-9a-f]{32}$/,
    );
  });
});

describe('refreshMarginMs', () => {
  it('is 10% of the lifetime, at least 10 s, at most half', () => {
    expect(refreshMarginMs(60_000)).toBe(10_000);
    expect(refreshMarginMs(300_000)).toBe(30_000);
    expect(refreshMarginMs(3_600_000)).toBe(360_000);
    expect(refreshMarginMs(10_000)).toBe(5_000);
  });
});

describe('TokenCache', () => {
  it('single-flight: 10 concurrent gets for one key make one fetch', async () => {
    const cache = new TokenCache();
    const gate = deferred<TokenResponse>();
    const fetcher = vi.fn(() => gate.promise);
    const gets = Array.from({ length: 10 }, () => cache.get('k', fetcher));
    gate.resolve(token('t1', 300, Date.now()));
    const results = await Promise.all(gets);
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(new Set(results.map((r) => r.token))).toEqual(new Set(['t1']));
    expect(await cache.get('k', fetcher)).toMatchObject({ token: 't1' });
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  it('different keys fetch separately', async () => {
    const cache = new TokenCache();
    const fetcher = vi.fn(async () => token('t', 300, Date.now()));
    await Promise.all([cache.get('a', fetcher), cache.get('b', fetcher), cache.get('a', fetcher)]);
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('refreshes a 300 s token 30 s before it expires (fake clock)', async () => {
    const c = clock();
    const cache = new TokenCache({ now: c.now });
    let n = 0;
    const fetcher = vi.fn(async () => token(`t${++n}`, 300, c.now()));
    expect((await cache.get('k', fetcher)).token).toBe('t1');
    c.advance(269);
    expect((await cache.get('k', fetcher)).token).toBe('t1');
    expect(cache.peek('k')?.token).toBe('t1');
    c.advance(2);
    expect(cache.peek('k')).toBeUndefined();
    expect((await cache.get('k', fetcher)).token).toBe('t2');
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('counts from issued_at, and from receipt when the server clock is far behind', async () => {
    const c = clock();
    const cache = new TokenCache({ now: c.now });
    cache.set('past', token('p', 300, T0 - 200_000)); // 100 s left: refresh margin 30 s
    c.advance(69);
    expect(cache.peek('past')?.token).toBe('p');
    c.advance(2);
    expect(cache.peek('past')).toBeUndefined();
    cache.set('skewed', token('s', 300, T0 - 3_600_000)); // expired on arrival
    expect(cache.peek('skewed')?.token).toBe('s');
  });

  it('does not cache failures; every waiter sees the failure', async () => {
    const cache = new TokenCache();
    const gate = deferred<TokenResponse>();
    const failing = vi.fn(() => gate.promise);
    const gets = [cache.get('k', failing), cache.get('k', failing)];
    gate.reject(new Error('token server down'));
    for (const result of await Promise.allSettled(gets)) expect(result.status).toBe('rejected');
    expect(failing).toHaveBeenCalledTimes(1);
    const ok = vi.fn(async () => token('t', 300, Date.now()));
    expect((await cache.get('k', ok)).token).toBe('t');
  });

  it('a fetcher that throws synchronously does not wedge the key', async () => {
    const cache = new TokenCache();
    await expect(
      cache.get('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect((await cache.get('k', async () => token('t', 300, Date.now()))).token).toBe('t');
  });

  it('a failed refresh falls back to the old token while it is still valid', async () => {
    const c = clock();
    const cache = new TokenCache({ now: c.now });
    cache.set('k', token('old', 60, c.now()));
    c.advance(55); // due for refresh (margin 10 s), still valid
    expect((await cache.get('k', async () => Promise.reject(new Error('down')))).token).toBe('old');
    c.advance(10); // expired
    await expect(cache.get('k', async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  });

  it('invalidate forces a fetch, and no fallback to the refused token', async () => {
    const c = clock();
    const cache = new TokenCache({ now: c.now });
    cache.set('k', token('bad', 300, c.now()));
    cache.invalidate('k');
    expect(cache.peek('k')).toBeUndefined();
    await expect(cache.get('k', async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect((await cache.get('k', async () => token('good', 300, c.now()))).token).toBe('good');
  });

  it('alias: the request scope finds the token fetched for the registry’s challenge scope', async () => {
    const c = clock();
    const cache = new TokenCache({ now: c.now });
    const common = {
      realm: 'https://art.example.com/token',
      service: 'art',
      credential: { kind: 'anonymous' as const },
    };
    const requestKey = tokenCacheKey({ ...common, scopes: ['repository:foo-docker/test/cp5:pull'] });
    const challengeKey = tokenCacheKey({ ...common, scopes: ['repository:test/cp5:pull'] });
    await cache.get(challengeKey, async () => token('for-challenge', 300, c.now()));
    cache.alias(requestKey, challengeKey);

    const neverCalled = vi.fn(async () => token('unexpected', 300, c.now()));
    expect((await cache.get(requestKey, neverCalled)).token).toBe('for-challenge');
    expect(cache.peek(requestKey)?.token).toBe('for-challenge');
    expect(neverCalled).not.toHaveBeenCalled();

    // Once the aliased token is due, the request key stands on its own again.
    c.advance(280);
    expect((await cache.get(requestKey, async () => token('own', 300, c.now()))).token).toBe('own');
  });

  it('invalidating through an alias drops the target and the alias', async () => {
    const cache = new TokenCache();
    cache.set('entry', token('t', 300, Date.now()));
    cache.alias('req', 'entry');
    cache.alias('req2', 'entry');
    cache.alias('same', 'same');
    cache.invalidate('req');
    expect(cache.peek('entry')).toBeUndefined();
    expect(cache.peek('req2')).toBeUndefined();
    expect((await cache.get('req2', async () => token('fresh', 300, Date.now()))).token).toBe('fresh');
    expect(cache.peek('entry')).toBeUndefined();
  });

  it('stays bounded: expired entries go first, then the least recently used', async () => {
    const c = clock();
    const cache = new TokenCache({ now: c.now, maxEntries: 3 });
    cache.set('short', token('s', 60, c.now()));
    cache.set('a', token('a', 3600, c.now()));
    cache.set('b', token('b', 3600, c.now()));
    c.advance(120);
    cache.set('c', token('c', 3600, c.now()));
    expect(cache.size).toBe(3);
    // 'a' is the oldest entry but was just used, so 'b' goes.
    expect((await cache.get('a', () => Promise.reject(new Error('not cached')))).token).toBe('a');
    cache.set('d', token('d', 3600, c.now()));
    expect(cache.size).toBe(3);
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('a')?.token).toBe('a');
    // A peek counts as a use too: 'c' is now the least recently used.
    expect(cache.peek('d')?.token).toBe('d');
    cache.set('e', token('e', 3600, c.now()));
    expect(cache.peek('c')).toBeUndefined();
    expect(cache.peek('a')?.token).toBe('a');
  });
});
