import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, pushImage, SMALL_SPEC, startTokenServer, type TokenServer } from '../rig/index.ts';
import { isAlive } from '../rig/processes.ts';
import { HTPASSWD_REALM, type Registry, startRegistry } from '../rig/registry.ts';
import { basic, OCI_ACCEPT } from './helpers.ts';

describe('startRegistry (real docker-registry 2.8.2)', () => {
  let tokenServer: TokenServer;
  let none: Registry;
  let htpasswd: Registry;
  let token: Registry;

  beforeAll(async () => {
    tokenServer = await startTokenServer();
    [none, htpasswd, token] = await Promise.all([
      startRegistry({ auth: 'none' }),
      startRegistry({ auth: 'htpasswd', users: { testuser: 'testpass', other: 'p:ss' } }),
      startRegistry({ auth: 'token', tokenServer }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([none?.stop(), htpasswd?.stop(), token?.stop()]);
    await tokenServer?.stop();
  });

  it('no auth: /v2/ answers 200 with the API version header', async () => {
    expect(none.host).toBe(`127.0.0.1:${none.port}`);
    const res = await fetch(`${none.url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  it('htpasswd: anonymous and wrong password get the Basic challenge, bcrypt users get in', async () => {
    const anonymous = await fetch(`${htpasswd.url}/v2/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe(`Basic realm="${HTPASSWD_REALM}"`);
    const wrong = await fetch(`${htpasswd.url}/v2/`, {
      headers: { authorization: basic('testuser', 'nope') },
    });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${htpasswd.url}/v2/`, {
      headers: { authorization: basic('testuser', 'testpass') },
    });
    expect(right.status).toBe(200);
    const colon = await fetch(`${htpasswd.url}/v2/`, { headers: { authorization: basic('other', 'p:ss') } });
    expect(colon.status).toBe(200);
  });

  it('token: anonymous requests get the Bearer challenge naming the token server', async () => {
    const ping = await fetch(`${token.url}/v2/`);
    expect(ping.status).toBe(401);
    expect(ping.headers.get('www-authenticate')).toBe(
      `Bearer realm="${tokenServer.realm}",service="${tokenServer.service}"`,
    );
    const manifest = await fetch(`${token.url}/v2/small/manifests/1`);
    expect(manifest.status).toBe(401);
    expect(manifest.headers.get('www-authenticate')).toContain('scope="repository:small:pull"');
    const body = (await manifest.json()) as { errors: { code: string }[] };
    expect(body.errors[0]?.code).toBe('UNAUTHORIZED');
  });

  it('token: a token from the token server opens /v2/', async () => {
    const res = await fetch(`${tokenServer.realm}?service=${tokenServer.service}`, {
      headers: { authorization: basic('testuser', 'testpass') },
    });
    const { token: jwt } = (await res.json()) as { token: string };
    const ping = await fetch(`${token.url}/v2/`, { headers: { authorization: `Bearer ${jwt}` } });
    expect(ping.status).toBe(200);
  });

  it('keeps the access log', async () => {
    await fetch(`${none.url}/v2/_catalog`);
    expect(none.logs()).toContain('GET /v2/_catalog');
  });

  it('stop() kills the process by PID and removes the data dir', async () => {
    const registry = await startRegistry({ auth: 'none' });
    expect(isAlive(registry.pid)).toBe(true);
    expect(existsSync(`${registry.dataDir}/config.yml`)).toBe(true);
    await registry.stop();
    expect(isAlive(registry.pid)).toBe(false);
    expect(existsSync(registry.dataDir)).toBe(false);
    await expect(fetch(`${registry.url}/v2/`)).rejects.toThrow();
  });

  // registry 2.8's proxy only attaches its upstream credentials to Bearer realms it discovered at startup; a
  // Basic (htpasswd) upstream gets no credentials. So the credentialed case uses the token registry.
  it('proxy mode: a pull-through cache serves an image of a token upstream, logging in with its credentials', async () => {
    const built = await buildImage(SMALL_SPEC, { tag: '1' });
    const { digest } = await pushImage({
      layoutDir: built.layoutDir,
      tag: '1',
      dest: `${token.host}/cached:1`,
      creds: { username: 'testuser', password: 'testpass' },
    });
    const cache = await startRegistry({
      auth: 'none',
      proxy: { remoteurl: token.url, username: 'testuser', password: 'testpass' },
    });
    try {
      tokenServer.resetLog();
      const res = await fetch(`${cache.url}/v2/cached/manifests/1`, { headers: { accept: OCI_ACCEPT } });
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-content-digest')).toBe(digest);
      expect(token.logs()).toMatch(/"GET \/v2\/cached\/manifests\/1 HTTP\/1.1" 200/);
      expect(
        tokenServer
          .log()
          .some((e) => e.user === 'testuser' && e.scopesGranted.includes('repository:cached:pull')),
      ).toBe(true);
    } finally {
      await cache.stop();
    }
  });
});
