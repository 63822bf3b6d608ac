// Registries that are not on loopback: HTTPS by default, trusting the CA in certs.d/<host:port>/ as dockerd does,
// and plain HTTP only when --insecure-registry names the host or a CIDR holding its address. The registries listen
// on this machine's first non-loopback IPv4 address, since a loopback registry is always plain HTTP.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemonOptions } from '../helpers/daemon.ts';
import { expectPullSucceeded, type PullOutcome, pullRaw } from '../helpers/raw-pull.ts';
import { buildImage } from '../rig/fixtures.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { SMALL_SPEC } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';
import { createServerCertificate, lanAddress, type ServerCertificate } from '../rig/tls.ts';

let dir: string;
let address: string;
let certificate: ServerCertificate;
let tlsRegistry: Registry;
let plainRegistry: Registry;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dockhand-tls-'));
  address = lanAddress();
  certificate = await createServerCertificate(dir, address);
  const image = await buildImage(SMALL_SPEC, { tag: '1' });
  tlsRegistry = await startRegistry({ auth: 'none', address, tls: certificate });
  plainRegistry = await startRegistry({ auth: 'none', address });
  for (const registry of [tlsRegistry, plainRegistry]) {
    await pushImage({ layoutDir: image.layoutDir, tag: image.tag, dest: `${registry.host}/small:1` });
  }
});

afterAll(async () => {
  await tlsRegistry?.stop();
  await plainRegistry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function pullWith(options: TestDaemonOptions, registry: Registry): Promise<PullOutcome> {
  const daemon = await startTestDaemon(options);
  try {
    return await pullRaw(daemon.socket, `${registry.host}/small`, '1');
  } finally {
    await daemon.close();
  }
}

async function certsDirTrusting(host: string): Promise<string> {
  const certsDir = join(dir, `certs.d-${host}`);
  await mkdir(join(certsDir, host), { recursive: true });
  await writeFile(join(certsDir, host, 'ca.crt'), certificate.caPem);
  return certsDir;
}

describe('TLS and insecure registries', () => {
  it('pulls over HTTPS from a registry whose CA is in certs.d/<host:port>/ca.crt', async () => {
    const outcome = await pullWith({ certsDir: await certsDirTrusting(tlsRegistry.host) }, tlsRegistry);
    expectPullSucceeded(outcome);
  });

  it.each([
    {
      what: 'a certificate no trusted CA signed',
      registry: () => tlsRegistry,
      reason: 'tls: unable to verify the first certificate (trust its CA with certs.d/<host:port>/ca.crt)',
    },
    {
      what: 'plain HTTP from a non-loopback registry not marked insecure',
      registry: () => plainRegistry,
      reason:
        'http: server gave HTTP response to HTTPS client (a plain-HTTP registry needs --insecure-registry)',
    },
  ])('refuses $what before the stream, naming the URL and the reason', async ({ registry, reason }) => {
    const outcome = await pullWith({}, registry());
    expect(outcome.status).toBe(500);
    expect(outcome.message).toBe(`Head "https://${registry().host}/v2/small/manifests/1": ${reason}`);
  });

  it('speaks plain HTTP to it when --insecure-registry names the host, or a CIDR holding its address', async () => {
    expectPullSucceeded(await pullWith({ insecureRegistries: [plainRegistry.host] }, plainRegistry));
    const cidr = `${address.split('.').slice(0, 3).join('.')}.0/24`;
    expectPullSucceeded(await pullWith({ insecureRegistries: [cidr] }, plainRegistry));
  });
});
