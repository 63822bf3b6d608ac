// clientAuth end to end: the real daemon, the real registry 2.8 (token auth and htpasswd, behind the rig's front
// which records what the registry sent), the rig's token server, and the SDK answering the challenges.

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAuthConfig } from '../../api-spec/auth-config.ts';
import {
  type AuthChallenge,
  createMemoryTokenStore,
  createOAuthChallengeHandler,
  createTokenChallengeHandler,
  EngineClient,
  login,
} from '../../client/index.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { type Front, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { type SeededImages, seedImages } from '../rig/seed.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

const USER = { username: 'testuser', password: 'testpass' };

let tokens: TokenServer;
let tokenRegistry: Registry;
let basicRegistry: Registry;
let tokenFront: Front;
let basicFront: Front;
let tokenImages: SeededImages;
let daemon: TestDaemon;
let client: EngineClient;

beforeAll(async () => {
  tokens = await startTokenServer({ users: { testuser: 'testpass' }, rotation: true });
  [tokenRegistry, basicRegistry] = await Promise.all([
    startRegistry({ auth: 'token', tokenServer: tokens }),
    startRegistry({ auth: 'htpasswd', users: { testuser: 'testpass' } }),
  ]);
  tokenFront = await startFront({ target: tokenRegistry.url });
  basicFront = await startFront({ target: basicRegistry.url, mode: 'v2-open' });
  tokenImages = await seedImages(tokenFront.host, USER);
  // skopeo cannot push through a /v2/-open front (it takes challenges from the ping only): seed behind it.
  await seedImages(basicRegistry.host, USER);
  daemon = await startTestDaemon();
  client = new EngineClient({ socketPath: daemon.socket });
});

afterAll(async () => {
  await daemon?.close();
  await Promise.all([tokenFront?.stop(), basicFront?.stop()]);
  await Promise.all([tokenRegistry?.stop(), basicRegistry?.stop()]);
  await tokens?.stop();
});

/** Sends one raw HTTP request over the socket and returns everything the daemon wrote. */
function raw(socket: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let out = '';
    conn.on('data', (d) => {
      out += d.toString('latin1');
    });
    conn.on('end', () => resolve(out));
    conn.on('error', reject);
    conn.write(request);
  });
}

/** Token requests the SDK made: counted around each handler call (calls here are sequential). */
function countingTokenHandler() {
  const inner = createTokenChallengeHandler({ credentials: async () => USER });
  const seen: AuthChallenge[] = [];
  let byClient = 0;
  const handler = async (c: AuthChallenge) => {
    seen.push(c);
    const before = tokens.counters().requests;
    const answer = await inner(c);
    byClient += tokens.counters().requests - before;
    return answer;
  };
  return { handler, seen, byClient: () => byClient };
}

describe('clientAuth: the daemon forwards the registry challenge', () => {
  it('answers 401 before any stream byte, with the WWW-Authenticate line byte for byte', async () => {
    tokenFront.reset();
    tokens.resetLog();
    const path = `/v1.50/images/create?fromImage=${encodeURIComponent(`${tokenFront.host}/small`)}&tag=1&clientAuth=1`;
    const response = await raw(
      daemon.socket,
      `POST ${path} HTTP/1.1\r\nHost: api.moby.localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    const [head = '', body = ''] = response.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
    const sent = tokenFront.requests().find((r) => r.status === 401);
    expect(sent?.challenges.length).toBeGreaterThan(0);
    const forwarded = head
      .split('\r\n')
      .filter((l) => /^www-authenticate:/i.test(l))
      .map((l) => l.slice(l.indexOf(':') + 2));
    expect(forwarded).toEqual(sent?.challenges);
    expect(head).toMatch(new RegExp(`^docker-registry-host: ${tokenFront.host}$`, 'im'));
    const json = JSON.parse(
      body.includes('{') ? body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1) : '{}',
    );
    expect(json).toMatchObject({
      registry: tokenFront.host,
      repository: 'small',
      challenges: sent?.challenges,
    });
    expect(tokens.counters().requests).toBe(0);
  });

  it('pulls after the SDK fetched the token itself; the daemon never calls the token server', async () => {
    tokens.resetLog();
    const { handler, seen, byClient } = countingTokenHandler();
    const result = await client.pull(tokenImages.small.ref, { challengeHandler: handler });
    expect(result).toBeDefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.registry).toBe(tokenFront.host);
    expect(byClient()).toBeGreaterThan(0);
    expect(tokens.counters().requests).toBe(byClient());
    expect(daemon.logs()).not.toContain(USER.password);
  });

  it('answers a Basic challenge with username and password, for that host only (/v2/ open front)', async () => {
    const { handler, seen } = countingTokenHandler();
    await client.pull(`${basicFront.host}/small:1`, { challengeHandler: handler });
    expect(seen[0]?.challenges[0]?.scheme).toBe('basic');
    const authorized = basicFront.requests().filter((r) => r.auth.present);
    expect(authorized.length).toBeGreaterThan(0);
    expect(authorized.every((r) => r.auth.scheme?.toLowerCase() === 'basic')).toBe(true);
  });

  it('treats clientAuth=0 and clientAuth=false as off (the daemon negotiates itself)', async () => {
    tokens.resetLog();
    for (const value of ['0', 'false']) {
      tokenFront.reset();
      await daemon.service
        .remove(tokenImages['small-v2s2'].ref, { force: true, noprune: false })
        .catch(() => {});
      const path = `/images/create?fromImage=${encodeURIComponent(`${tokenFront.host}/small-v2s2`)}&tag=1&clientAuth=${value}`;
      const auth = encodeAuthConfig({ ...USER, serveraddress: tokenFront.host });
      const response = await raw(
        daemon.socket,
        `POST ${path} HTTP/1.1\r\nHost: x\r\nX-Registry-Auth: ${auth}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      expect(response.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
      expect(response).toContain('Digest: ');
      expect(response).not.toContain('errorDetail');
      // The daemon answered the registry itself: its requests carried a Bearer token it got from the token server.
      expect(tokenFront.requests().some((r) => r.auth.scheme?.toLowerCase() === 'bearer')).toBe(true);
    }
    expect(tokens.log().some((e) => e.user === USER.username)).toBe(true);
  });

  it('pushes with a cross-repository mount in two challenge rounds', async () => {
    const { handler, seen } = countingTokenHandler();
    await client.pull(tokenImages.small.ref, { challengeHandler: handler });
    const target = `${tokenFront.host}/mounted`;
    await client.tagImage(tokenImages.small.ref, `${target}:1`);
    seen.length = 0;
    tokenFront.reset();
    const pushed = await client.push(target, { tag: '1', challengeHandler: handler });
    expect(pushed).toBeDefined();
    expect(seen).toHaveLength(2);
    const mounts = tokenFront.requests().filter((r) => r.method === 'POST' && r.query.includes('mount='));
    expect(mounts.some((r) => r.status === 201)).toBe(true);
  });
});

describe('OAuth refresh-token rotation', () => {
  it('classic mode: the daemon spends the identity token, so the next pull is refused (reuse detected)', async () => {
    tokens.setRotation(true);
    const store = createMemoryTokenStore();
    await login({ registry: tokenFront.host, ...USER, store, clientId: 'dockhand-test' });
    const identitytoken = (await store.get(tokenFront.host))?.refreshToken;
    expect(identitytoken).toBeTruthy();
    tokens.resetLog();
    const fresh = await startTestDaemon();
    try {
      const classic = new EngineClient({ socketPath: fresh.socket });
      const auth = { identitytoken, serveraddress: tokenFront.host };
      await classic.pull(tokenImages.small.ref, { auth });
      await expect(classic.pull(tokenImages.multi.ref, { auth })).rejects.toThrow();
      expect(tokens.counters().reuseDetections).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('clientAuth + OAuth handler: ten concurrent pulls make one refresh, no reuse, and the newest token is stored', async () => {
    tokens.setRotation(true);
    const store = createMemoryTokenStore();
    await login({ registry: tokenFront.host, ...USER, store, clientId: 'dockhand-test' });
    const first = (await store.get(tokenFront.host))?.refreshToken as string;
    tokens.resetLog();
    const fresh = await startTestDaemon();
    try {
      const sdk = new EngineClient({ socketPath: fresh.socket, connections: 16 });
      const handler = createOAuthChallengeHandler({ store, clientId: 'dockhand-test' });
      await Promise.all(
        Array.from({ length: 10 }, () => sdk.pull(tokenImages.small.ref, { challengeHandler: handler })),
      );
      const counters = tokens.counters();
      expect(counters.refreshes).toBe(1);
      expect(counters.reuseDetections).toBe(0);
      // Every token request came from the SDK's one refresh: the daemon made none.
      expect(counters.requests).toBe(1);
      const newest = (await store.get(tokenFront.host))?.refreshToken as string;
      expect(newest).not.toBe(first);
      expect(tokens.isRefreshTokenValid(newest)).toBe(true);
      expect(tokens.isRefreshTokenValid(first)).toBe(false);
    } finally {
      await fresh.close();
    }
  });
});
