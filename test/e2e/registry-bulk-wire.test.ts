// Large layers (≥ 1 MiB) over the bulk wire against the real registry: HTTPS trusting a certs.d CA, a redirect to
// another origin that gets no credential, and a clientAuth challenge on a large blob forwarded as the registry sent
// it. A registry proxy in front records each request's connection: the blob thread's connections carry large
// blobs only, the daemon's own wire the manifests, configs and small blobs, so each case shows how the layer was
// fetched.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthChallenge, createTokenChallengeHandler, EngineClient } from '../../client/index.ts';
import { startTestDaemon, type TestDaemon, type TestDaemonOptions } from '../helpers/daemon.ts';
import { expectPullSucceeded, pullRaw } from '../helpers/raw-pull.ts';
import {
  type RegistryProxy,
  type RegistryProxyOptions,
  startRegistryProxy,
} from '../helpers/registry-proxy.ts';
import { type BuiltImage, buildImage, type LayerInfo } from '../rig/fixtures.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { pushImage } from '../rig/skopeo.ts';
import { createServerCertificate, lanAddress, type ServerCertificate } from '../rig/tls.ts';
import { startTokenServer, type TokenServer } from '../rig/token-server.ts';

const CREDS = { username: 'testuser', password: 'testpass' };
const BASIC = `Basic ${Buffer.from(`${CREDS.username}:${CREDS.password}`).toString('base64')}`;

let dir: string;
let lan: string;
let certificate: ServerCertificate;
let image: BuiltImage;
let big: LayerInfo;
let tokens: TokenServer;
let openRegistry: Registry;
let basicRegistry: Registry;
let tokenRegistry: Registry;
const proxies: RegistryProxy[] = [];
const daemons: TestDaemon[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dockhand-bulk-'));
  lan = lanAddress();
  certificate = await createServerCertificate(dir, lan);
  image = await buildImage({ layers: [3 * 1024 * 1024, 40_000], seed: 11 }, { tag: '1' });
  const layer = image.images[0]?.layers[0];
  if (!layer || layer.size < 2 * 1024 * 1024) throw new Error('the fixture needs a layer of 2 MiB or more');
  big = layer;
  tokens = await startTokenServer({ users: { [CREDS.username]: CREDS.password } });
  [openRegistry, basicRegistry, tokenRegistry] = await Promise.all([
    startRegistry({ auth: 'none' }),
    startRegistry({ auth: 'htpasswd', users: { [CREDS.username]: CREDS.password } }),
    startRegistry({ auth: 'token', tokenServer: tokens }),
  ]);
  for (const registry of [openRegistry, basicRegistry, tokenRegistry]) {
    await pushImage({ layoutDir: image.layoutDir, tag: '1', dest: `${registry.host}/big:1`, creds: CREDS });
  }
});

afterAll(async () => {
  for (const d of daemons) await d.close();
  for (const p of proxies) await p.stop();
  await Promise.all([openRegistry?.stop(), basicRegistry?.stop(), tokenRegistry?.stop()]);
  await tokens?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Seen {
  path: string;
  socket: Socket;
  authorization: string | undefined;
  range: string | undefined;
}

/** A registry proxy that records every request's path, connection and Authorization before `answer` sees it. */
async function recordingProxy(
  options: RegistryProxyOptions,
): Promise<{ proxy: RegistryProxy; seen: Seen[] }> {
  const seen: Seen[] = [];
  const proxy = await startRegistryProxy({
    ...options,
    answer(req, res, scheme) {
      seen.push({
        path: req.url ?? '',
        socket: req.socket,
        authorization: req.headers.authorization,
        range: req.headers.range,
      });
      return options.answer?.(req, res, scheme) ?? false;
    },
  });
  proxies.push(proxy);
  return { proxy, seen };
}

async function daemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const d = await startTestDaemon(options);
  daemons.push(d);
  return d;
}

const isBigBlobGet = (req: IncomingMessage) =>
  req.method === 'GET' && req.url?.endsWith(`/blobs/${big.digest}`);
const bigGets = (seen: Seen[]) => seen.filter((s) => s.path.endsWith(`/blobs/${big.digest}`));
const smallBlobGets = (seen: Seen[]) =>
  seen.filter((s) => s.path.includes('/blobs/') && !s.path.endsWith(`/blobs/${big.digest}`));

/** The big blob's GETs came over the bulk wire: each on a connection that carried nothing else. */
function expectBulkWire(seen: Seen[]): void {
  const gets = bigGets(seen);
  expect(gets.length).toBeGreaterThan(0);
  for (const get of gets) {
    expect(seen.filter((s) => s.socket === get.socket).every((s) => s.path === get.path)).toBe(true);
  }
}

describe('large layers over the bulk wire', () => {
  it('pulls over HTTPS trusting the CA in certs.d/<host:port>/ca.crt', async () => {
    const { proxy, seen } = await recordingProxy({
      target: openRegistry.url,
      address: lan,
      tls: certificate,
    });
    const certsDir = join(dir, 'certs.d');
    await mkdir(join(certsDir, proxy.host), { recursive: true });
    await writeFile(join(certsDir, proxy.host, 'ca.crt'), certificate.caPem);
    const d = await daemon({ certsDir });
    expectPullSucceeded(await pullRaw(d.socket, `${proxy.host}/big`, '1'));
    expect(bigGets(seen)).toHaveLength(1);
    // The small blobs stayed on the daemon's own wire.
    expect(smallBlobGets(seen).length).toBeGreaterThan(0);
    expectBulkWire(seen);
    expect(await d.service.store.content.has(big.digest)).toBe(true);
  });

  it('follows a redirect to another origin without sending it the registry credential', async () => {
    // The other origin: a name for loopback the registry is not known by, which lets the blob through as a
    // pre-signed URL would (the credential the registry needs is added here, never by the daemon).
    const other = await recordingProxy({
      target: basicRegistry.url,
      address: '127.0.0.1',
      answer(req) {
        req.headers.authorization = BASIC;
        return false;
      },
    });
    const { proxy, seen } = await recordingProxy({
      target: basicRegistry.url,
      address: '127.0.0.1',
      answer(req, res) {
        if (!isBigBlobGet(req) || req.headers.authorization === undefined) return false;
        res.writeHead(307, { location: `http://localhost:${other.proxy.port}${req.url}` }).end();
        return true;
      },
    });
    const d = await daemon();
    expectPullSucceeded(
      await pullRaw(d.socket, `${proxy.host}/big`, '1', { ...CREDS, serveraddress: proxy.host }),
    );
    const redirected = bigGets(seen).filter((s) => s.authorization !== undefined);
    expect(redirected).toHaveLength(1);
    expect(redirected[0]?.authorization).toMatch(/^Basic /);
    expectBulkWire(seen);
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]?.path).toBe(`/v2/big/blobs/${big.digest}`);
    expect(other.seen[0]?.authorization).toBeUndefined();
    expect(await d.service.store.content.has(big.digest)).toBe(true);
  });

  it('forwards a clientAuth challenge on a large blob to the SDK as the registry sent it, and resumes', async () => {
    // Not ASCII, with odd spacing: a wire that decodes or normalizes the header would change it.
    const late =
      `Bearer realm="${tokens.realm}",service="${tokens.service}",scope="repository:big:pull",` +
      'error="invalid_token",error_description="caf\u00e9  \u00bfexpir\u00f3? \u00ff"';
    let challenged = 0;
    const { proxy, seen } = await recordingProxy({
      target: tokenRegistry.url,
      address: '127.0.0.1',
      answer(req, res) {
        if (!isBigBlobGet(req) || challenged > 0) return false;
        challenged++;
        res
          .writeHead(401, { 'www-authenticate': late, 'content-type': 'application/json' })
          .end('{"errors":[]}');
        return true;
      },
    });
    const d = await daemon();
    const inner = createTokenChallengeHandler({ credentials: async () => CREDS });
    const challenges: AuthChallenge[] = [];
    await new EngineClient({ socketPath: d.socket }).pull(`${proxy.host}/big:1`, {
      sideChannel: false,
      challengeHandler: async (c) => {
        challenges.push(c);
        return inner(c);
      },
    });
    expect(challenged).toBe(1);
    expect(challenges.map((c) => c.lines)).toContainEqual([late]);
    expect(bigGets(seen).length).toBeGreaterThanOrEqual(2);
    expectBulkWire(seen);
    expect(await d.service.store.content.has(big.digest)).toBe(true);
  }, 60_000);

  it('resumes a large blob whose connection closed mid-body from exactly where it stopped, over the bulk wire again', async () => {
    const bytes = await readFile(
      join(image.layoutDir, 'blobs', 'sha256', big.digest.slice('sha256:'.length)),
    );
    const cut = 1024 * 1024;
    let cuts = 0;
    const { proxy, seen } = await recordingProxy({
      target: openRegistry.url,
      address: '127.0.0.1',
      answer(req, res) {
        if (!isBigBlobGet(req) || cuts > 0) return false;
        cuts++;
        res.writeHead(200, { 'content-length': bytes.length, 'docker-content-digest': big.digest });
        // The connection ends cleanly (FIN) a megabyte in: a cut body, not a reset.
        res.write(bytes.subarray(0, cut), () => res.socket?.end());
        return true;
      },
    });
    const d = await daemon({ retry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 10 } });
    expectPullSucceeded(await pullRaw(d.socket, `${proxy.host}/big`, '1'));
    const gets = bigGets(seen);
    expect(gets).toHaveLength(2);
    expectBulkWire(seen);
    const from = Number(/^bytes=(\d+)-$/.exec(gets[1]?.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBe(cut);
    expect(await d.service.store.content.has(big.digest)).toBe(true);
  });
});
