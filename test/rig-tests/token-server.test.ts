import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildImage,
  pushImage,
  type Registry,
  SMALL_SPEC,
  startRegistry,
  startTokenServer,
  type TokenServer,
} from '../rig/index.ts';
import { libtrustKeyId } from '../rig/token-keys.ts';
import { basic, jwtClaims, jwtHeader, OCI_ACCEPT } from './helpers.ts';

const USER = basic('testuser', 'testpass');

interface TokenBody {
  token?: string;
  access_token?: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
  scope?: string;
}

describe('startTokenServer', () => {
  let ts: TokenServer;
  let registry: Registry;

  const getToken = async (scopes: string[], authorization?: string, extra = '') => {
    const query = scopes.map((s) => `&scope=${encodeURIComponent(s)}`).join('');
    const res = await fetch(`${ts.realm}?service=${ts.service}${query}${extra}`, {
      headers: authorization ? { authorization } : {},
    });
    return { status: res.status, body: (await res.json()) as TokenBody & Record<string, unknown> };
  };
  const post = async (form: Record<string, string>) => {
    const res = await fetch(ts.realm, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: (await res.json()) as TokenBody & Record<string, unknown> };
  };
  const login = async () => {
    const { body } = await post({
      grant_type: 'password',
      username: 'testuser',
      password: 'testpass',
      service: ts.service,
      client_id: 'rig-test',
      access_type: 'offline',
    });
    return body.refresh_token!;
  };
  const refresh = (refreshToken: string, scope = 'repository:small:pull') =>
    post({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      service: ts.service,
      scope,
      client_id: 'rig-test',
    });

  beforeAll(async () => {
    ts = await startTokenServer();
    registry = await startRegistry({ auth: 'token', tokenServer: ts });
    const built = await buildImage(SMALL_SPEC, { tag: '1' });
    await pushImage({
      layoutDir: built.layoutDir,
      tag: '1',
      dest: `${registry.host}/small:1`,
      creds: { username: 'testuser', password: 'testpass' },
    });
  });
  afterAll(async () => {
    await registry?.stop();
    await ts?.stop();
  });

  it('issues a JWT the registry accepts: aud is the service string, iss the issuer, exp set, x5c header', async () => {
    const { status, body } = await getToken(['repository:small:pull'], USER);
    expect(status).toBe(200);
    expect(body.token).toBe(body.access_token);
    const claims = jwtClaims(body.token!);
    expect(claims).toMatchObject({ iss: ts.issuer, aud: ts.service, sub: 'testuser' });
    expect(typeof claims['exp']).toBe('number');
    expect(claims['access']).toEqual([{ type: 'repository', name: 'small', actions: ['pull'] }]);
    expect(jwtHeader(body.token!)).toMatchObject({ alg: 'ES256', x5c: [expect.any(String)] });
    expect(body.expires_in).toBe(300);
    expect(Number.isNaN(Date.parse(body.issued_at))).toBe(false);
  });

  it('a token opens exactly its granted scope; anything else is insufficient_scope', async () => {
    const { body } = await getToken(['repository:small:pull'], USER);
    const auth = { authorization: `Bearer ${body.token}` };
    const manifest = await fetch(`${registry.url}/v2/small/manifests/1`, {
      headers: { ...auth, accept: OCI_ACCEPT },
    });
    expect(manifest.status).toBe(200);
    const other = await fetch(`${registry.url}/v2/other/manifests/1`, { headers: auth });
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    const push = await fetch(`${registry.url}/v2/small/blobs/uploads/`, { method: 'POST', headers: auth });
    expect(push.status).toBe(401);
    expect(push.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('several scopes, repeated and space-separated, are each granted', async () => {
    const { body } = await getToken(
      ['repository:small:pull,push repository:a/b:pull', 'registry:catalog:*'],
      USER,
    );
    expect(jwtClaims(body.token!)['access']).toEqual([
      { type: 'repository', name: 'small', actions: ['pull', 'push'] },
      { type: 'repository', name: 'a/b', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    const upload = await fetch(`${registry.url}/v2/small/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${body.token}` },
    });
    expect(upload.status).toBe(202);
    const catalog = await fetch(`${registry.url}/v2/_catalog`, {
      headers: { authorization: `Bearer ${body.token}` },
    });
    expect(catalog.status).toBe(200);
  });

  it('partial grants are never an error: deny/* and anonymous outside public/ get empty actions', async () => {
    const user = await getToken(['repository:deny/x:pull,push', 'repository:small:pull,delete'], USER);
    expect(user.status).toBe(200);
    expect(jwtClaims(user.body.token!)['access']).toEqual([
      { type: 'repository', name: 'deny/x', actions: [] },
      { type: 'repository', name: 'small', actions: ['pull'] },
    ]);
    const anonymous = await getToken(['repository:public/x:pull,push', 'repository:small:pull']);
    expect(anonymous.status).toBe(200);
    expect(jwtClaims(anonymous.body.token!)['access']).toEqual([
      { type: 'repository', name: 'public/x', actions: ['pull'] },
      { type: 'repository', name: 'small', actions: [] },
    ]);
    expect(jwtClaims(anonymous.body.token!)['sub']).toBeUndefined();
  });

  it('a wrong password gets 401 with the distribution error body, and no token', async () => {
    const { status, body } = await getToken(['repository:small:pull'], basic('testuser', 'wrong'));
    expect(status).toBe(401);
    expect(body.token).toBeUndefined();
    expect(body).toMatchObject({
      errors: [{ code: 'UNAUTHORIZED', detail: 'incorrect username or password' }],
      details: 'incorrect username or password',
    });
    const unknownUser = await getToken([], basic('nobody', 'testpass'));
    expect(unknownUser.status).toBe(401);
  });

  it('GET with offline_token=true and valid credentials also returns a refresh token', async () => {
    const withCreds = await getToken(
      ['repository:small:pull'],
      USER,
      '&offline_token=true&client_id=docker&account=testuser',
    );
    expect(withCreds.body.refresh_token).toMatch(/^rig-rt\./);
    expect(ts.isRefreshTokenValid(withCreds.body.refresh_token!)).toBe(true);
    const anonymous = await getToken(['repository:public/x:pull'], undefined, '&offline_token=true');
    expect(anonymous.body.refresh_token).toBeUndefined();
    const online = await getToken(['repository:small:pull'], USER);
    expect(online.body.refresh_token).toBeUndefined();
  });

  it('POST password grant: OAuth response, refresh token only with access_type=offline, 401 on a bad password', async () => {
    const offline = await post({
      grant_type: 'password',
      username: 'testuser',
      password: 'testpass',
      service: ts.service,
      scope: 'repository:small:pull repository:deny/x:pull',
      client_id: 'rig-test',
      access_type: 'offline',
    });
    expect(offline.status).toBe(200);
    expect(offline.body.refresh_token).toBeDefined();
    expect(offline.body.scope).toBe('repository:small:pull repository:deny/x:');
    const online = await post({
      grant_type: 'password',
      username: 'testuser',
      password: 'testpass',
      service: ts.service,
      client_id: 'x',
    });
    expect(online.body.access_token).toBeDefined();
    expect(online.body.refresh_token).toBeUndefined();
    const bad = await post({
      grant_type: 'password',
      username: 'testuser',
      password: 'nope',
      service: ts.service,
      client_id: 'x',
    });
    expect(bad.status).toBe(401);
    const unsupported = await post({ grant_type: 'client_credentials', service: ts.service });
    expect(unsupported).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
  });

  it('rotation: a refresh returns a new access token and a new refresh token; reuse revokes the family', async () => {
    ts.setRotation(true);
    ts.resetLog();
    const first = await login();
    const r1 = await refresh(first);
    expect(r1.status).toBe(200);
    expect(jwtClaims(r1.body.access_token!)).toMatchObject({ sub: 'testuser' });
    const second = r1.body.refresh_token!;
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(ts.isRefreshTokenValid(first)).toBe(false);
    expect(ts.isRefreshTokenValid(second)).toBe(true);

    const r2 = await refresh(second);
    const third = r2.body.refresh_token!;
    expect(ts.isRefreshTokenValid(third)).toBe(true);

    const reuse = await refresh(first);
    expect(reuse).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(ts.isRefreshTokenValid(third)).toBe(false);
    const afterRevoke = await refresh(third);
    expect(afterRevoke).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    // Another login is another family, untouched by the revocation.
    const other = await login();
    expect((await refresh(other)).status).toBe(200);

    expect(ts.counters()).toMatchObject({
      refreshes: 5,
      reuseDetections: 1,
      issuedRefreshTokens: 5,
      postRequests: 7,
    });
    const unknown = await refresh('rig-rt.not-issued');
    expect(unknown).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('rotation off: the same refresh token keeps working and no new one is returned', async () => {
    ts.setRotation(false);
    try {
      const token = await login();
      for (let i = 0; i < 3; i++) {
        const res = await refresh(token);
        expect(res.status).toBe(200);
        expect(res.body.refresh_token).toBeUndefined();
      }
      expect(ts.isRefreshTokenValid(token)).toBe(true);
    } finally {
      ts.setRotation(true);
    }
  });

  it('response shapes: only token, or only access_token', async () => {
    try {
      ts.setResponseShape('token-only');
      const a = await getToken(['repository:small:pull'], USER);
      expect(a.body.token).toBeDefined();
      expect(a.body.access_token).toBeUndefined();
      ts.setResponseShape('access-token-only');
      const b = await getToken(['repository:small:pull'], USER);
      expect(b.body.token).toBeUndefined();
      expect(b.body.access_token).toBeDefined();
    } finally {
      ts.setResponseShape('both');
    }
  });

  it('short token lifetimes beat the registry leeway: the token stops working mid-test', async () => {
    // exp = floor(now) - 60 + 2: valid for 1 to 2 s at the registry, whatever the sub-second now.
    ts.setTokenLifetime(2);
    ts.setExpiresIn(60);
    try {
      const { body } = await getToken(['repository:small:pull'], USER);
      expect(body.expires_in).toBe(60);
      const auth = { authorization: `Bearer ${body.token}`, accept: OCI_ACCEPT };
      expect((await fetch(`${registry.url}/v2/small/manifests/1`, { headers: auth })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 3100));
      const expired = await fetch(`${registry.url}/v2/small/manifests/1`, { headers: auth });
      expect(expired.status).toBe(401);
      expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"');
    } finally {
      ts.setTokenLifetime(undefined);
      ts.setExpiresIn(300);
    }
  });

  it('serves the same endpoint at the alternate realm path, logged by path', async () => {
    ts.resetLog();
    const res = await fetch(`${ts.altRealm}?service=${ts.service}&scope=repository:small:pull`, {
      headers: { authorization: USER },
    });
    expect(res.status).toBe(200);
    expect(ts.log()[0]?.path).toBe('/alt/token');
  });

  it('logs requests and counts them without ever recording a secret', async () => {
    ts.resetLog();
    const refreshToken = await login();
    const { body } = await getToken(['repository:small:pull'], USER, '&client_id=docker');
    await refresh(refreshToken);
    const log = ts.log();
    expect(log.map((e) => [e.method, e.grantType, e.user])).toEqual([
      ['POST', 'password', 'testuser'],
      ['GET', undefined, 'testuser'],
      ['POST', 'refresh_token', 'testuser'],
    ]);
    expect(log[1]).toMatchObject({
      basicAuth: true,
      clientId: 'docker',
      scopesAsked: ['repository:small:pull'],
    });
    const text = JSON.stringify(log);
    for (const secret of ['testpass', refreshToken, body.token!, USER.slice(6)])
      expect(text).not.toContain(secret);
    expect(ts.counters()).toMatchObject({ requests: 3, getRequests: 1, postRequests: 2, refreshes: 1 });
  });

  it('mintToken signs arbitrary claims, and the registry refuses an array aud', async () => {
    const good = await ts.mintToken({
      user: 'x',
      access: [{ type: 'repository', name: 'small', actions: ['pull'] }],
    });
    const bad = await ts.mintToken({
      user: 'x',
      access: [{ type: 'repository', name: 'small', actions: ['pull'] }],
      claims: { aud: [ts.service] },
    });
    const get = (token: string) =>
      fetch(`${registry.url}/v2/small/manifests/1`, {
        headers: { authorization: `Bearer ${token}`, accept: OCI_ACCEPT },
      });
    expect((await get(good)).status).toBe(200);
    const refused = await get(bad);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('RS256 with a libtrust kid header (no x5c) is accepted by the registry', async () => {
    const kidServer = await startTokenServer({ alg: 'RS256', keyId: 'kid' });
    const kidRegistry = await startRegistry({ auth: 'token', tokenServer: kidServer });
    try {
      const token = await kidServer.mintToken({ user: 'x', access: [] });
      const header = jwtHeader(token);
      expect(header['x5c']).toBeUndefined();
      expect(header['kid']).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
      expect(
        (await fetch(`${kidRegistry.url}/v2/`, { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(200);
      // The other server's key is not in this registry's bundle.
      const foreign = await ts.mintToken({ user: 'x', access: [] });
      expect(
        (await fetch(`${kidRegistry.url}/v2/`, { headers: { authorization: `Bearer ${foreign}` } })).status,
      ).toBe(401);
    } finally {
      await kidRegistry.stop();
      await kidServer.stop();
    }
  });

  it('libtrustKeyId: base32 of the first 30 bytes of sha256(SPKI), in groups of 4', () => {
    // Reference value computed with Python's base64.b32encode(sha256(b'')[:30]).
    expect(libtrustKeyId(Buffer.alloc(0))).toBe(
      '4OYM:IQUY:7QOB:JGX3:6TEJ:S35Z:EQT2:4QPE:MSNZ:GTFE:SWMR:W6CS',
    );
  });
});
