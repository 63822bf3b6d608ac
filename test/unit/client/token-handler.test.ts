// The client-side token dance and registry login against msw token endpoints and registries.
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthChallenge,
  createMemoryTokenStore,
  createTokenChallengeHandler,
  credentialsFromStore,
  login,
  parseWwwAuthenticate,
  RealmRefusedError,
  RegistryLoginError,
} from '../../../client/index.ts';
import { FetchDispatcher } from './fetch-dispatcher.ts';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const dispatcher = new FetchDispatcher();

function challengeOf(registry: string, line: string, attempt = 1): AuthChallenge {
  return { registry, repository: 'team/app', lines: [line], challenges: parseWwwAuthenticate(line), attempt };
}

describe('token challenge handler', () => {
  const realm = 'https://auth.example.com/token';
  const bearer = `Bearer realm="${realm}",service="registry.example.com",scope="repository:team/app:pull"`;

  it('GETs a token with Basic from the credential source, for that host', async () => {
    const seen: Request[] = [];
    server.use(
      http.get(realm, ({ request }) => {
        seen.push(request);
        return HttpResponse.json({ token: 'tok', expires_in: 300 });
      }),
    );
    const asked: string[] = [];
    const handler = createTokenChallengeHandler({
      dispatcher,
      credentials: async (host) => {
        asked.push(host);
        return { username: 'alice', password: 'pw' };
      },
    });
    expect(await handler(challengeOf('registry.example.com', bearer))).toMatchObject({
      serveraddress: 'registry.example.com',
      registrytoken: 'tok',
    });
    expect(asked).toEqual(['registry.example.com']);
    const url = new URL(seen[0]!.url);
    expect(url.searchParams.get('service')).toBe('registry.example.com');
    expect(url.searchParams.get('scope')).toBe('repository:team/app:pull');
    expect(url.searchParams.get('account')).toBe('alice');
    expect(seen[0]!.headers.get('authorization')).toBe(`Basic ${Buffer.from('alice:pw').toString('base64')}`);
  });

  it('goes anonymous without credentials, and reuses a token until the registry refuses it', async () => {
    let n = 0;
    const seen: Request[] = [];
    server.use(
      http.get(realm, ({ request }) => {
        seen.push(request);
        return HttpResponse.json({ access_token: `anon-${++n}`, expires_in: 300 });
      }),
    );
    const handler = createTokenChallengeHandler({ dispatcher });
    expect((await handler(challengeOf('registry.example.com', bearer)))?.registrytoken).toBe('anon-1');
    expect((await handler(challengeOf('registry.example.com', bearer)))?.registrytoken).toBe('anon-1');
    expect((await handler(challengeOf('registry.example.com', bearer, 2)))?.registrytoken).toBe('anon-2');
    expect(seen.map((r) => r.headers.get('authorization'))).toEqual([null, null]);
  });

  it('answers a Basic challenge with that host’s username and password, or gives up without them', async () => {
    const handler = createTokenChallengeHandler({
      credentials: async (host) =>
        host === 'basic.example.com:5000' ? { username: 'u', password: 'p' } : undefined,
    });
    expect(await handler(challengeOf('basic.example.com:5000', 'Basic realm="r"'))).toEqual({
      serveraddress: 'basic.example.com:5000',
      username: 'u',
      password: 'p',
    });
    expect(await handler(challengeOf('other.example.com', 'Basic realm="r"'))).toBeUndefined();
  });

  it('applies the realm policy before any credential leaves', async () => {
    let asked = 0;
    const handler = createTokenChallengeHandler({
      dispatcher,
      credentials: async () => {
        asked++;
        return { username: 'u', password: 'p' };
      },
    });
    const metadata = 'Bearer realm="http://169.254.169.254/token",service="x"';
    await expect(handler(challengeOf('registry.example.com', metadata))).rejects.toBeInstanceOf(
      RealmRefusedError,
    );
    const downgrade = 'Bearer realm="http://auth.example.com/token",service="x"';
    await expect(handler(challengeOf('registry.example.com', downgrade))).rejects.toMatchObject({
      name: 'RealmRefusedError',
      reason: 'insecure',
    });
    expect(asked).toBe(0);
  });

  it('lets a loopback registry use an http realm on another loopback port', async () => {
    server.use(http.get('http://127.0.0.1:5001/token', () => HttpResponse.json({ token: 'local' })));
    const handler = createTokenChallengeHandler({ dispatcher });
    const line = 'Bearer realm="http://127.0.0.1:5001/token",service="local"';
    expect((await handler(challengeOf('127.0.0.1:5000', line)))?.registrytoken).toBe('local');
  });

  it('reads credentials from a store through credentialsFromStore', async () => {
    const store = createMemoryTokenStore({ 'docker.io': { username: 'hub', password: 'pat' } });
    const source = credentialsFromStore(store);
    expect(await source('registry-1.docker.io')).toEqual({ username: 'hub', password: 'pat' });
    expect(await source('ghcr.io')).toBeUndefined();
  });
});

describe('login', () => {
  const registry = 'registry.example.com';
  const realm = 'https://auth.example.com/token';

  function registryChallenging(line: string, okWith?: string): void {
    server.use(
      http.get(`https://${registry}/v2/`, ({ request }) => {
        if (okWith !== undefined && request.headers.get('authorization') === okWith)
          return new HttpResponse(null);
        return new HttpResponse(null, { status: 401, headers: { 'www-authenticate': line } });
      }),
    );
  }

  it('discovers the realm, uses the password grant with offline access and stores the refresh token', async () => {
    registryChallenging(`Bearer realm="${realm}",service="${registry}"`);
    const forms: Record<string, string>[] = [];
    server.use(
      http.post(realm, async ({ request }) => {
        forms.push(Object.fromEntries(new URLSearchParams(await request.text())));
        return HttpResponse.json({ access_token: 'a', refresh_token: 'refresh-1' });
      }),
    );
    const store = createMemoryTokenStore();
    const result = await login({
      registry,
      username: 'alice',
      password: 'pw',
      store,
      clientId: 'cli',
      dispatcher,
    });
    expect(result).toEqual({ registry, status: 'Login Succeeded', identityToken: true });
    expect(forms[0]).toEqual({
      grant_type: 'password',
      username: 'alice',
      password: 'pw',
      service: registry,
      client_id: 'cli',
      access_type: 'offline',
    });
    expect(await store.get(registry)).toEqual({ username: 'alice', refreshToken: 'refresh-1' });
  });

  it('falls back to GET with offline_token=true when the token server has no OAuth2 (404)', async () => {
    registryChallenging(`Bearer realm="${realm}",service="${registry}"`);
    const gets: URL[] = [];
    server.use(
      http.post(realm, () => new HttpResponse(null, { status: 404 })),
      http.get(realm, ({ request }) => {
        gets.push(new URL(request.url));
        return HttpResponse.json({ token: 't', refresh_token: 'refresh-get' });
      }),
    );
    const store = createMemoryTokenStore();
    await login({ registry, username: 'alice', password: 'pw', store, clientId: 'cli', dispatcher });
    expect(gets[0]!.searchParams.get('offline_token')).toBe('true');
    expect(gets[0]!.searchParams.get('client_id')).toBe('cli');
    expect((await store.get(registry))?.refreshToken).toBe('refresh-get');
  });

  it('checks and stores username and password for a Basic registry, and refuses wrong ones', async () => {
    const good = `Basic ${Buffer.from('bob:right').toString('base64')}`;
    registryChallenging('Basic realm="Registry Realm"', good);
    const store = createMemoryTokenStore();
    expect(
      await login({ registry, username: 'bob', password: 'right', store, clientId: 'cli', dispatcher }),
    ).toMatchObject({ identityToken: false });
    expect(await store.get(registry)).toEqual({ username: 'bob', password: 'right' });
    await expect(
      login({ registry, username: 'bob', password: 'wrong', store, clientId: 'cli', dispatcher }),
    ).rejects.toBeInstanceOf(RegistryLoginError);
  });

  it('stores Docker Hub under docker.io and probes registry-1.docker.io', async () => {
    const probed: string[] = [];
    server.use(
      http.get('https://registry-1.docker.io/v2/', ({ request }) => {
        probed.push(request.url);
        return new HttpResponse(null, {
          status: 401,
          headers: {
            'www-authenticate': 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
          },
        });
      }),
      http.post('https://auth.docker.io/token', () =>
        HttpResponse.json({ access_token: 'a', refresh_token: 'hub-r' }),
      ),
    );
    const store = createMemoryTokenStore();
    const result = await login({
      registry: 'https://index.docker.io/v1/',
      username: 'hubuser',
      password: 'pat',
      store,
      clientId: 'cli',
      dispatcher,
    });
    expect(result.registry).toBe('docker.io');
    expect(probed).toEqual(['https://registry-1.docker.io/v2/']);
    expect((await store.get('docker.io'))?.refreshToken).toBe('hub-r');
  });
});
