import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  authHash,
  buildImage,
  type Front,
  type LayerInfo,
  pushImage,
  type Registry,
  SMALL_SPEC,
  startFront,
  startRegistry,
  startTokenServer,
  type TokenServer,
} from '../rig/index.ts';
import { basic, OCI_ACCEPT, rawRequest, sha256 } from './helpers.ts';

const CREDS = { username: 'testuser', password: 'testpass' };

describe('startFront', () => {
  let ts: TokenServer;
  let tokenRegistry: Registry;
  let openRegistry: Registry;
  let tokenFront: Front;
  let openFront: Front;
  /** The 1 MiB layer of small:1. */
  let layer: LayerInfo;
  let pullToken: string;

  const token = async (scope: string, authorization?: string) => {
    const res = await fetch(`${ts.realm}?service=${ts.service}&scope=${scope}`, {
      headers: authorization ? { authorization } : {},
    });
    return ((await res.json()) as { token: string }).token;
  };
  const blobUrl = (front: Front) => `${front.url}/v2/small/blobs/${layer.digest}`;

  beforeAll(async () => {
    ts = await startTokenServer();
    [tokenRegistry, openRegistry] = await Promise.all([
      startRegistry({ auth: 'token', tokenServer: ts }),
      startRegistry({ auth: 'none' }),
    ]);
    const built = await buildImage(SMALL_SPEC, { tag: '1' });
    layer = built.images[0]!.layers[1]!;
    await Promise.all([
      pushImage({
        layoutDir: built.layoutDir,
        tag: '1',
        dest: `${tokenRegistry.host}/small:1`,
        creds: CREDS,
      }),
      pushImage({ layoutDir: built.layoutDir, tag: '1', dest: `${openRegistry.host}/small:1` }),
    ]);
    await pushImage({
      layoutDir: built.layoutDir,
      tag: '1',
      dest: `${tokenRegistry.host}/public/small:1`,
      creds: CREDS,
    });
    tokenFront = await startFront({ target: tokenRegistry.url });
    openFront = await startFront({ target: openRegistry.url });
    pullToken = await token('repository:small:pull', basic('testuser', 'testpass'));
  });
  afterAll(async () => {
    await Promise.all([tokenFront?.stop(), openFront?.stop()]);
    await Promise.all([tokenRegistry?.stop(), openRegistry?.stop()]);
    await ts?.stop();
  });
  beforeEach(async () => {
    for (const front of [tokenFront, openFront]) {
      front.setMode('passthrough');
      await front.setFaults([]);
      front.reset();
    }
  });

  describe('passthrough', () => {
    it('proxies and records method, path, kind, auth (hashed), range, status and bytes', async () => {
      const authorization = `Bearer ${pullToken}`;
      const res = await fetch(`${blobUrl(tokenFront)}?x=1`, {
        headers: { authorization, range: 'bytes=0-99' },
      });
      expect(res.status).toBe(206);
      expect((await res.arrayBuffer()).byteLength).toBe(100);
      const anonymous = await fetch(`${tokenFront.url}/v2/small/manifests/1`);
      expect(anonymous.status).toBe(401);
      const [blob, manifest] = tokenFront.requests();
      expect(blob).toMatchObject({
        method: 'GET',
        path: `/v2/small/blobs/${layer.digest}`,
        query: 'x=1',
        kind: 'blob',
        repository: 'small',
        auth: { present: true, scheme: 'Bearer', sha256: authHash(authorization) },
        range: 'bytes=0-99',
        status: 206,
        bytes: 100,
        upstream: true,
        faults: [],
        error: undefined,
      });
      expect(manifest).toMatchObject({ kind: 'manifest', status: 401, auth: { present: false } });
      expect(manifest!.challenges[0]).toContain('scope="repository:small:pull"');
      expect(JSON.stringify(tokenFront.requests())).not.toContain(pullToken);
    });

    it('keeps clients on the front: upload Locations are rewritten to the front origin', async () => {
      const pushToken = await token('repository:small:pull,push', basic('testuser', 'testpass'));
      const res = await fetch(`${tokenFront.url}/v2/small/blobs/uploads/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pushToken}` },
      });
      expect(res.status).toBe(202);
      expect(res.headers.get('location')).toMatch(new RegExp(`^${tokenFront.url}/v2/small/blobs/uploads/`));
      expect(tokenFront.requests()[0]).toMatchObject({ kind: 'upload', method: 'POST', status: 202 });
    });

    it('carries a skopeo push (POST, PATCH, PUT with bodies) through to the registry', async () => {
      const built = await buildImage({ layers: [64 * 1024], seed: 21 }, { tag: '1' });
      const { digest } = await pushImage({
        layoutDir: built.layoutDir,
        tag: '1',
        dest: `${openFront.host}/pushed:1`,
      });
      expect(digest).toBe(built.digest);
      const methods = new Set(openFront.requests().map((r) => `${r.method} ${r.kind} ${r.status}`));
      expect(methods).toContain('POST upload 202');
      expect(methods).toContain('PUT upload 201');
      expect(methods).toContain('PUT manifest 201');
      const direct = await fetch(`${openRegistry.url}/v2/pushed/manifests/1`, {
        headers: { accept: OCI_ACCEPT },
      });
      expect(direct.headers.get('docker-content-digest')).toBe(digest);
    });

    it('streams a whole blob and proxies HEAD', async () => {
      const res = await fetch(blobUrl(openFront));
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(layer.digest);
      const head = await fetch(blobUrl(openFront), { method: 'HEAD' });
      expect(head.headers.get('content-length')).toBe(String(layer.size));
      expect(openFront.requests().map((r) => [r.method, r.bytes])).toEqual([
        ['GET', layer.size],
        ['HEAD', 0],
      ]);
    });
  });

  describe('modes', () => {
    it('v2-open: /v2/ answers 200 {} but the manifest still challenges', async () => {
      tokenFront.setMode('v2-open');
      const ping = await fetch(`${tokenFront.url}/v2/`);
      expect(ping.status).toBe(200);
      expect(ping.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
      expect(await ping.text()).toBe('{}');
      const manifest = await fetch(`${tokenFront.url}/v2/small/manifests/1`);
      expect(manifest.status).toBe(401);
      expect(manifest.headers.get('www-authenticate')).toContain('Bearer realm=');
      expect(tokenFront.requests().map((r) => [r.kind, r.upstream, r.mode])).toEqual([
        ['ping', false, 'v2-open'],
        ['manifest', true, 'v2-open'],
      ]);
      // Without the mode the registry itself challenges /v2/.
      tokenFront.setMode('passthrough');
      expect((await fetch(`${tokenFront.url}/v2/`)).status).toBe(401);
    });

    it('wrong-scope: the challenge scope loses the first path component of the repository', async () => {
      const direct = await fetch(`${tokenRegistry.url}/v2/public/small/manifests/1`);
      expect(direct.headers.get('www-authenticate')).toContain('scope="repository:public/small:pull"');
      tokenFront.setMode('wrong-scope');
      const bent = await fetch(`${tokenFront.url}/v2/public/small/manifests/1`);
      expect(bent.status).toBe(401);
      const challenge = bent.headers.get('www-authenticate')!;
      expect(challenge).toContain('scope="repository:small:pull"');
      expect(challenge).toContain(`realm="${ts.realm}"`);
      expect(challenge).toContain(`service="${ts.service}"`);
    });

    it('pull-push-scope: pull asks pull,push; after insufficient_scope the realm switches', async () => {
      tokenFront.setMode('pull-push-scope');
      const anonymous = await fetch(`${tokenFront.url}/v2/small/manifests/1`);
      const first = anonymous.headers.get('www-authenticate')!;
      expect(first).toContain('scope="repository:small:pull,push"');
      expect(first).toContain(`realm="${ts.realm}"`);
      // An anonymous token grants nothing on small: the registry says insufficient_scope.
      const empty = await token('repository:small:pull');
      const insufficient = await fetch(`${tokenFront.url}/v2/small/manifests/1`, {
        headers: { authorization: `Bearer ${empty}` },
      });
      const second = insufficient.headers.get('www-authenticate')!;
      expect(second).toContain('error="insufficient_scope"');
      expect(second).toContain(`realm="${ts.altRealm}"`);
      expect(second).toContain('scope="repository:small:pull,push"');
      // The switched realm is a working token endpoint.
      ts.resetLog();
      const alt = await fetch(`${ts.altRealm}?service=${ts.service}&scope=repository:small:pull,push`, {
        headers: { authorization: basic('testuser', 'testpass') },
      });
      expect(alt.status).toBe(200);
      expect(ts.log()[0]).toMatchObject({
        path: '/alt/token',
        scopesGranted: ['repository:small:pull,push'],
      });
      // The pull itself still works with the pull,push token.
      const { token: jwt } = (await alt.json()) as { token: string };
      const ok = await fetch(`${tokenFront.url}/v2/small/manifests/1`, {
        headers: { authorization: `Bearer ${jwt}`, accept: OCI_ACCEPT },
      });
      expect(ok.status).toBe(200);
    });

    it('no-service: challenges lose service', async () => {
      tokenFront.setMode('no-service');
      const ping = await fetch(`${tokenFront.url}/v2/`);
      expect(ping.headers.get('www-authenticate')).toBe(`Bearer realm="${ts.realm}"`);
      const manifest = await fetch(`${tokenFront.url}/v2/small/manifests/1`);
      expect(manifest.headers.get('www-authenticate')).toBe(
        `Bearer realm="${ts.realm}",scope="repository:small:pull"`,
      );
    });

    it('no-www-authenticate: a bare 401', async () => {
      tokenFront.setMode('no-www-authenticate');
      const res = await fetch(`${tokenFront.url}/v2/small/manifests/1`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBeNull();
      expect(tokenFront.requests()[0]!.challenges).toEqual([]);
    });

    it('forbidden: 403 DENIED without a challenge on repositories, the ping keeps its 401', async () => {
      tokenFront.setMode('forbidden');
      const res = await fetch(`${tokenFront.url}/v2/small/manifests/1`);
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toBeNull();
      expect(await res.json()).toMatchObject({ errors: [{ code: 'DENIED' }] });
      expect((await fetch(`${tokenFront.url}/v2/`)).status).toBe(401);
      // A token that is good enough still passes.
      const ok = await fetch(`${tokenFront.url}/v2/small/manifests/1`, {
        headers: { authorization: `Bearer ${pullToken}`, accept: OCI_ACCEPT },
      });
      expect(ok.status).toBe(200);
    });
  });

  it('leaves Basic challenges alone in every mode, and reports an unreachable registry as 502', async () => {
    const htpasswd = await startRegistry({ auth: 'htpasswd', users: { testuser: 'testpass' } });
    const front = await startFront({ target: htpasswd.url });
    try {
      for (const mode of ['passthrough', 'wrong-scope', 'pull-push-scope', 'no-service'] as const) {
        front.setMode(mode);
        const res = await fetch(`${front.url}/v2/small/manifests/1`);
        expect([mode, res.status, res.headers.get('www-authenticate')]).toEqual([
          mode,
          401,
          'Basic realm="basic-realm"',
        ]);
      }
      await htpasswd.stop();
      const res = await fetch(`${front.url}/v2/`);
      expect(res.status).toBe(502);
      expect(front.requests().at(-1)).toMatchObject({
        status: 502,
        error: expect.stringContaining('ECONNREFUSED'),
      });
    } finally {
      await front.stop();
      await htpasswd.stop();
    }
  });

  describe('faults', () => {
    it('status: 503 the first K times, then the registry answers', async () => {
      await openFront.setFaults([{ type: 'status', status: 503, kind: 'manifest', times: 2 }]);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        statuses.push(
          (await fetch(`${openFront.url}/v2/small/manifests/1`, { headers: { accept: OCI_ACCEPT } })).status,
        );
      }
      expect(statuses).toEqual([503, 503, 200]);
      expect(openFront.requests().map((r) => [r.upstream, r.faults])).toEqual([
        [false, ['status:503']],
        [false, ['status:503']],
        [true, []],
      ]);
    });

    it('status: 429 with Retry-After on the Nth blob GET only; 500 any method', async () => {
      await openFront.setFaults([
        { type: 'status', status: 429, retryAfter: 2, nth: 2, method: 'GET' },
        { type: 'status', status: 500, kind: 'ping' },
      ]);
      const a = await fetch(blobUrl(openFront));
      await a.arrayBuffer();
      const b = await fetch(blobUrl(openFront));
      const c = await fetch(blobUrl(openFront));
      await c.arrayBuffer();
      expect([a.status, b.status, c.status]).toEqual([200, 429, 200]);
      expect(b.headers.get('retry-after')).toBe('2');
      expect(await b.json()).toMatchObject({ errors: [{ code: 'TOOMANYREQUESTS' }] });
      expect((await fetch(`${openFront.url}/v2/`, { method: 'HEAD' })).status).toBe(500);
    });

    it('reset: the connection is reset after N body bytes', async () => {
      await openFront.setFaults([{ type: 'reset', afterBytes: 1000 }]);
      const res = await rawRequest(blobUrl(openFront));
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe(String(layer.size));
      expect(res.complete).toBe(false);
      expect(res.error?.code).toBe('ECONNRESET');
      expect(res.body.length).toBeLessThanOrEqual(1000);
      expect(openFront.requests()[0]).toMatchObject({ bytes: 1000, faults: ['reset:1000'] });
    });

    it('truncate: Content-Length kept, body cut cleanly after N bytes', async () => {
      await openFront.setFaults([{ type: 'truncate', afterBytes: 5000 }]);
      const res = await rawRequest(blobUrl(openFront));
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe(String(layer.size));
      expect(res.complete).toBe(false);
      expect(res.body.length).toBe(5000);
      expect(res.error?.message).toBe('aborted');
    });

    it('flip: full length, but the digest no longer matches', async () => {
      await openFront.setFaults([{ type: 'flip', nth: 1 }]);
      const flipped = Buffer.from(await (await fetch(blobUrl(openFront))).arrayBuffer());
      const clean = Buffer.from(await (await fetch(blobUrl(openFront))).arrayBuffer());
      expect(flipped.length).toBe(layer.size);
      expect(sha256(flipped)).not.toBe(layer.digest);
      expect(sha256(clean)).toBe(layer.digest);
      const diff = [...flipped].findIndex((byte, i) => byte !== clean[i]);
      expect(diff).toBe(Math.floor(layer.size / 2));
    });

    it('slow: the body is throttled to the given rate', async () => {
      await openFront.setFaults([{ type: 'slow', bytesPerSecond: 200_000 }]);
      const started = Date.now();
      const res = await fetch(blobUrl(openFront), { headers: { range: 'bytes=0-99999' } });
      expect((await res.arrayBuffer()).byteLength).toBe(100_000);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(450);
      expect(elapsed).toBeLessThan(3000);
    });

    it('faults compose: slow and truncated in the same response', async () => {
      await openFront.setFaults([
        { type: 'slow', bytesPerSecond: 100_000 },
        { type: 'truncate', afterBytes: 20_000 },
      ]);
      const started = Date.now();
      const res = await rawRequest(blobUrl(openFront));
      expect(res.body.length).toBe(20_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(openFront.requests()[0]!.faults).toEqual(['slow:100000', 'truncate:20000']);
    });

    it('redirect other-host: 307 to another origin that serves the blob and records the Authorization it got', async () => {
      await tokenFront.setFaults([{ type: 'redirect', to: 'other-host' }]);
      const authorization = `Bearer ${pullToken}`;
      const res = await fetch(blobUrl(tokenFront), { headers: { authorization }, redirect: 'manual' });
      expect(res.status).toBe(307);
      const location = res.headers.get('location')!;
      expect(location).toMatch(/^http:\/\/localhost:\d+\/blob\//);
      // A careful client follows without the credential; a leaky one sends it along.
      const careful = await fetch(location);
      expect(sha256(Buffer.from(await careful.arrayBuffer()))).toBe(layer.digest);
      const leaky = await fetch(location, { headers: { authorization, range: 'bytes=0-9' } });
      expect(leaky.status).toBe(206);
      await leaky.arrayBuffer();
      expect(
        tokenFront.redirectTarget!.requests().map((r) => [r.host, r.auth.present, r.auth.sha256, r.status]),
      ).toEqual([
        [new URL(location).host, false, undefined, 200],
        [new URL(location).host, true, authHash(authorization), 206],
      ]);
      expect(tokenFront.requests()[0]).toMatchObject({
        status: 307,
        location,
        faults: ['redirect:other-host'],
      });
    });

    it('redirect other-port: same host, another port; a 401 does not use the fault up', async () => {
      await tokenFront.setFaults([{ type: 'redirect', to: 'other-port', times: 1 }]);
      const unauthorized = await fetch(blobUrl(tokenFront), { redirect: 'manual' });
      expect(unauthorized.status).toBe(401);
      const res = await fetch(blobUrl(tokenFront), {
        headers: { authorization: `Bearer ${pullToken}` },
        redirect: 'manual',
      });
      expect(res.status).toBe(307);
      const location = new URL(res.headers.get('location')!);
      expect(location.hostname).toBe('127.0.0.1');
      expect(location.port).not.toBe(String(tokenFront.port));
      const followed = await fetch(location);
      expect(sha256(Buffer.from(await followed.arrayBuffer()))).toBe(layer.digest);
      const after = await fetch(blobUrl(tokenFront), {
        headers: { authorization: `Bearer ${pullToken}` },
        redirect: 'manual',
      });
      expect(after.status).toBe(200);
      await after.arrayBuffer();
    });
  });
});
