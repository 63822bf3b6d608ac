import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_API_VERSION } from '../../../api-spec/api-version.ts';
import { engineRequest } from '../../helpers/openapi-check.ts';
import { type ServerHarness, startServerHarness } from './harness.ts';

let t: ServerHarness;
beforeAll(async () => {
  t = await startServerHarness();
});
afterAll(async () => {
  await t.close();
});

function expectIdentificationHeaders(headers: Record<string, unknown>): void {
  expect(headers['api-version']).toBe(MAX_API_VERSION);
  expect(headers['server']).toMatch(/^Dockhand\/\d+\.\d+\.\d+ \(linux\)$/);
  expect(headers['ostype']).toBe('linux');
  expect(headers['docker-experimental']).toBe('false');
}

describe('API versions', () => {
  it('serves the same route unversioned and under /v1.41/ and /v1.50/', async () => {
    for (const path of ['/version', '/v1.41/version', '/v1.50/version', '/v1.40/version']) {
      const res = await engineRequest(t.socket, { path });
      expect(res.status).toBe(200);
      expect(res.json<{ ApiVersion: string }>().ApiVersion).toBe('1.50');
    }
  });

  it("refuses an older version with moby's exact message", async () => {
    const res = await engineRequest(t.socket, { path: '/v1.39/version' });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      message:
        'client version 1.39 is too old. Minimum supported API version is 1.40, please upgrade your client to a newer version',
    });
  });

  it("refuses a newer version with moby's exact message, comparing numerically", async () => {
    const res = await engineRequest(t.socket, { path: '/v1.51/_ping' });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      message: 'client version 1.51 is too new. Maximum supported API version is 1.50',
    });
    // 1.9 < 1.40 numerically (a string comparison would call it newer).
    const old = await engineRequest(t.socket, { path: '/v1.9/_ping' });
    expect(old.json<{ message: string }>().message).toContain('client version 1.9 is too old');
  });

  it('answers an unknown route, or a known path with another method, with 404 page not found', async () => {
    for (const req of [
      { path: '/networks' },
      { path: '/v1.41/swarm' },
      { method: 'POST', path: '/images/json' },
      { method: 'PUT', path: '/_ping' },
      { path: '/vfoo/_ping' },
      { path: '/images/x/changes' },
    ]) {
      const res = await engineRequest(t.socket, req);
      expect(res.status, `${req.path}`).toBe(404);
      expect(res.json()).toEqual({ message: 'page not found' });
    }
  });

  it('refuses container, exec, build and volume routes with 501, never 404 (the CLI reads 404 as "no such image")', async () => {
    for (const req of [
      { path: '/v1.41/containers/json' },
      { method: 'POST', path: '/containers/create?name=x' },
      { method: 'POST', path: '/exec/abc/start' },
      { method: 'POST', path: '/build' },
      { method: 'DELETE', path: '/volumes/v1' },
    ]) {
      const res = await engineRequest(t.socket, req);
      expect(res.status, req.path).toBe(501);
      expect(res.json<{ message: string }>().message).toMatch(
        /^Dockhand is an image daemon: \w+ are not supported/,
      );
    }
  });

  it('answers a path that is not valid percent-encoding with 400 in the same shape', async () => {
    const res = await engineRequest(t.socket, { path: '/_p%zzng' });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ message: "'/_p%zzng' is not a valid url component" });
    expectIdentificationHeaders(res.headers);
  });

  it('puts Api-Version, Server, Ostype and Docker-Experimental on every response', async () => {
    const cases = [
      { path: '/_ping' },
      { method: 'HEAD', path: '/_ping' },
      { path: '/v1.39/_ping' },
      { path: '/nope' },
      { path: '/images/json' },
      { path: '/images/missing/json' },
      { method: 'POST', path: '/images/create?fromImage=127.0.0.1:5000/small&tag=1' },
      { method: 'POST', path: '/images/127.0.0.1:5000/small:1/tag?repo=x/y&tag=2' },
      { path: `/events?until=${Math.floor(Date.now() / 1000) - 1}` },
    ];
    for (const req of cases) {
      const res = await engineRequest(t.socket, req);
      expectIdentificationHeaders(res.headers);
    }
  });
});

describe('_ping', () => {
  it('GET answers OK as text/plain with the no-cache headers moby sends', async () => {
    const res = await engineRequest(t.socket, { path: '/_ping' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('OK');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache, no-store, must-revalidate');
    expect(res.headers['pragma']).toBe('no-cache');
    expect(res.headers['swarm']).toBe('inactive');
  });

  it('HEAD answers 200 with an empty body and Content-Length 0 (the docker CLI pings with HEAD)', async () => {
    const res = await engineRequest(t.socket, { method: 'HEAD', path: '/v1.41/_ping' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['content-length']).toBe('0');
    expect(res.headers['api-version']).toBe('1.50');
  });
});
