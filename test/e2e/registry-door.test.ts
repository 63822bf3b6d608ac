// Registry access as a hostile or broken registry sees it: what reaches an origin a redirect downgrades to, a
// refused realm in one repository's challenge, a registry that stalls or trickles, a registry that repeats the
// client's token in its error, and a token server behind a private CA. Registries that must not be on loopback
// listen on this machine's first non-loopback IPv4 address; nothing leaves the machine.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon, type TestDaemonOptions } from '../helpers/daemon.ts';
import { expectPullSucceeded, type PullOutcome, pullRaw } from '../helpers/raw-pull.ts';
import { type RegistryProxy, startRegistryProxy } from '../helpers/registry-proxy.ts';
import { type BuiltImage, buildImage } from '../rig/fixtures.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { SMALL_SPEC } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';
import { createServerCertificate, lanAddress, type ServerCertificate } from '../rig/tls.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

const CREDS = { username: 'testuser', password: 'testpass' };

let dir: string;
let lan: string;
let certificate: ServerCertificate;
let image: BuiltImage;
let tokenServer: TokenServer;
let tokenRegistry: Registry;
let basicRegistry: Registry;
const proxies: RegistryProxy[] = [];
const daemons: TestDaemon[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dockhand-door-'));
  lan = lanAddress();
  certificate = await createServerCertificate(dir, lan);
  image = await buildImage(SMALL_SPEC, { tag: '1' });
  tokenServer = await startTokenServer();
  [tokenRegistry, basicRegistry] = await Promise.all([
    startRegistry({ auth: 'token', tokenServer }),
    startRegistry({ auth: 'htpasswd', users: { [CREDS.username]: CREDS.password } }),
  ]);
  for (const registry of [tokenRegistry, basicRegistry]) {
    await pushImage({
      layoutDir: image.layoutDir,
      tag: image.tag,
      dest: `${registry.host}/small:1`,
      creds: CREDS,
    });
  }
});

afterAll(async () => {
  for (const d of daemons) await d.close();
  for (const p of proxies) await p.stop();
  await basicRegistry?.stop();
  await tokenRegistry?.stop();
  await tokenServer?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function proxy(options: Parameters<typeof startRegistryProxy>[0]): Promise<RegistryProxy> {
  const p = await startRegistryProxy(options);
  proxies.push(p);
  return p;
}

async function daemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const d = await startTestDaemon(options);
  daemons.push(d);
  return d;
}

async function certsDirTrusting(host: string): Promise<string> {
  const certsDir = join(dir, `certs.d-${host.replace(/[^\w.-]/g, '_')}`);
  await mkdir(join(certsDir, host), { recursive: true });
  await writeFile(join(certsDir, host, 'ca.crt'), certificate.caPem);
  return certsDir;
}

const failed = (outcome: PullOutcome) =>
  outcome.message ?? outcome.messages.find((m) => m.error !== undefined)?.error ?? '';

describe('redirects', () => {
  it('an https registry redirecting a blob to http on the same host and port: no credential reaches http', async () => {
    const registry = await proxy({
      target: basicRegistry.url,
      address: lan,
      tls: certificate,
      plainToo: true,
      answer(req, res, scheme) {
        if (scheme !== 'https' || req.method !== 'GET' || !req.url?.includes('/blobs/')) return false;
        res.writeHead(307, { location: `http://${lan}:${registry.port}${req.url}` }).end();
        return true;
      },
    });
    const d = await daemon({ certsDir: await certsDirTrusting(registry.host) });
    const outcome = await pullRaw(d.socket, `${registry.host}/small`, '1', {
      ...CREDS,
      serveraddress: registry.host,
    });
    const overHttp = registry.requests().filter((r) => r.scheme === 'http');
    expect(overHttp.filter((r) => r.authorization !== undefined)).toEqual([]);
    expect(
      registry.requests().some((r) => r.scheme === 'https' && r.authorization?.startsWith('Basic ')),
    ).toBe(true);
    expect(failed(outcome)).toContain('https to plain http after a credential was sent');
  });
});

describe('challenges', () => {
  it("a refused realm in one repository's challenge leaves the host's other repositories pullable", async () => {
    const registry = await proxy({
      target: tokenRegistry.url,
      address: '127.0.0.1',
      rewriteChallenge: (line, req) =>
        req.url?.startsWith('/v2/evil/')
          ? line.replace(/realm="[^"]*"/, 'realm="http://169.254.169.254/token"')
          : line,
    });
    const d = await daemon();
    const auth = { ...CREDS, serveraddress: registry.host };
    const evil = await pullRaw(d.socket, `${registry.host}/evil`, '1', auth);
    expect(failed(evil)).toContain('169.254.169.254');
    expectPullSucceeded(await pullRaw(d.socket, `${registry.host}/small`, '1', auth));
  });

  it('a token the registry repeats in its error never reaches the log or the client', async () => {
    const [platform] = image.images;
    if (!platform) throw new Error('the fixture has no image');
    const registry = await proxy({
      target: tokenRegistry.url,
      address: '127.0.0.1',
      answer(req, res) {
        if (!req.url?.includes('/manifests/') || !req.headers.authorization) return false;
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            errors: [
              { code: 'DENIED', message: `credential ${req.headers.authorization} is not allowed here` },
            ],
          }),
        );
        return true;
      },
    });
    const d = await daemon();
    const outcome = await pullRaw(d.socket, `${registry.host}/small@${platform.manifestDigest}`, '', {
      ...CREDS,
      serveraddress: registry.host,
    });
    const sent = registry.requests().find((r) => r.authorization?.startsWith('Bearer '))?.authorization;
    const token = sent?.slice('Bearer '.length) ?? '';
    expect(token.length).toBeGreaterThan(20);
    expect(failed(outcome)).toContain('credential Bearer *** is not allowed here');
    expect(JSON.stringify(outcome)).not.toContain(token);
    expect(d.logs()).toContain('is not allowed here');
    expect(d.logs()).not.toContain(token);
  });
});

describe('limits', () => {
  const limits = {
    retry: { maxRetries: 2, baseDelayMs: 50, maxDelayMs: 50 },
    idleTimeoutMs: 1000,
    transferRate: { minBytesPerSecond: 200, windowMs: 1000 },
  };

  it('a registry that accepts and never answers ends the pull in the configured time, tried 1 + 2 times', async () => {
    const registry = await proxy({
      target: basicRegistry.url,
      address: '127.0.0.1',
      answer: (req) => req.url?.includes('/manifests/') === true,
    });
    const d = await daemon({ limits });
    const started = Date.now();
    const outcome = await pullRaw(d.socket, `${registry.host}/small`, '1', {
      ...CREDS,
      serveraddress: registry.host,
    });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(failed(outcome)).toMatch(/timeout/i);
    expect(registry.requests().filter((r) => r.path.includes('/manifests/'))).toHaveLength(3);
  });

  /** A registry that answers the blob's authorized GETs with `head`, then a byte every 500 ms. */
  const trickling = (digest: string, head: (range: string | undefined) => [number, Record<string, string>]) =>
    proxy({
      target: basicRegistry.url,
      address: '127.0.0.1',
      answer(req, res) {
        if (!req.url?.endsWith(`/blobs/${digest}`) || req.method !== 'GET' || !req.headers.authorization)
          return false;
        res.writeHead(...head(req.headers.range));
        const timer = setInterval(() => res.write(Buffer.alloc(1)), 500);
        res.once('close', () => clearInterval(timer));
        return true;
      },
    });

  const pullTooSlow = async (registry: RegistryProxy, repo: string, digest: string) => {
    const d = await daemon({ limits });
    const outcome = await pullRaw(d.socket, `${registry.host}/${repo}`, '1', {
      ...CREDS,
      serveraddress: registry.host,
    });
    expect(failed(outcome)).toMatch(/slower than 200 bytes\/s/);
    return registry.requests().filter((r) => r.path.endsWith(`/blobs/${digest}`) && r.authorization);
  };

  it('a blob trickled below the minimum rate fails the pull, tried 1 + 2 times', async () => {
    const layer = image.images[0]?.layers[0]?.digest ?? '';
    const registry = await trickling(layer, () => [
      200,
      { 'content-type': 'application/octet-stream', 'content-length': '100000' },
    ]);
    expect(await pullTooSlow(registry, 'small', layer)).toHaveLength(3);
  });

  it('a large blob (fetched in ranges) trickled below the minimum rate fails the pull too, tried 1 + 2 times', async () => {
    const large = await buildImage({ layers: [16 * 1024 * 1024 + 1], seed: 31 }, { tag: '1' });
    await pushImage({
      layoutDir: large.layoutDir,
      tag: '1',
      dest: `${basicRegistry.host}/large:1`,
      creds: CREDS,
    });
    const layer = large.images[0]?.layers[0];
    if (!layer) throw new Error('the large image has no layer');
    // Each range as asked: a wrong range would send the pull to a plain GET, which proves nothing about ranges.
    const registry = await trickling(layer.digest, (range) => {
      const [, first = '0', last = ''] = /^bytes=(\d+)-(\d*)$/.exec(range ?? '') ?? [];
      const start = Number(first);
      const end = last === '' ? layer.size - 1 : Number(last);
      return [
        206,
        {
          'content-type': 'application/octet-stream',
          'accept-ranges': 'bytes',
          'content-range': `bytes ${start}-${end}/${layer.size}`,
          'content-length': String(end - start + 1),
        },
      ];
    });
    const tries = await pullTooSlow(registry, 'large', layer.digest);
    // 1 + 2 tries, each of one range or of the ranges it was split into.
    expect(tries.length).toBeGreaterThanOrEqual(3);
    expect(tries.length).toBeLessThanOrEqual(3 * 8);
  });
});

describe('the token leg', () => {
  it('reaches a token server behind a certs.d CA, through the same transport', async () => {
    const tlsTokenServer = await proxy({ target: tokenServer.url, address: lan, tls: certificate });
    const registryOnLan = await startRegistry({
      auth: 'token',
      tokenServer,
      realm: `https://${tlsTokenServer.host}/token`,
      address: lan,
    });
    try {
      await pushImage({
        layoutDir: image.layoutDir,
        tag: image.tag,
        dest: `${registryOnLan.host}/small:1`,
        creds: CREDS,
      });
      const d = await daemon({
        certsDir: await certsDirTrusting(tlsTokenServer.host),
        insecureRegistries: [registryOnLan.host],
      });
      expectPullSucceeded(
        await pullRaw(d.socket, `${registryOnLan.host}/small`, '1', {
          ...CREDS,
          serveraddress: registryOnLan.host,
        }),
      );
      expect(tlsTokenServer.requests().map((r) => r.path)).toContainEqual(
        expect.stringMatching(/^\/token\?/),
      );
    } finally {
      await registryOnLan.stop();
    }
  });
});
