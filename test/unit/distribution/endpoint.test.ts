import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEndpoint } from '../../../daemon/distribution/endpoint.ts';

describe('resolveEndpoint', () => {
  let certsDir: string;
  beforeAll(async () => {
    certsDir = await mkdtemp(join(tmpdir(), 'dockhand-certs-'));
    await mkdir(join(certsDir, 'registry.lan:5000'));
    await writeFile(join(certsDir, 'registry.lan:5000', 'b.crt'), 'B');
    await writeFile(join(certsDir, 'registry.lan:5000', 'a.crt'), 'A');
    // Docker reads client key pairs from the same folder; they are not CAs.
    await writeFile(join(certsDir, 'registry.lan:5000', 'client.cert'), 'C');
  });
  afterAll(() => rm(certsDir, { recursive: true, force: true }));

  it('speaks plain HTTP to loopback without a flag, as dockerd', async () => {
    for (const host of ['127.0.0.1:5000', '127.8.9.10', 'localhost:5000', '[::1]:5000']) {
      expect(await resolveEndpoint(host, { insecureRegistries: [] })).toMatchObject({
        origin: `http://${host}`,
        secure: false,
      });
    }
  });

  it('speaks plain HTTP to a host named exactly, or whose address is in a CIDR', async () => {
    const insecureRegistries = ['registry.lan:5000', '192.0.2.0/24', 'fd00::/64'];
    expect(await resolveEndpoint('registry.lan:5000', { insecureRegistries })).toMatchObject({
      secure: false,
    });
    expect(await resolveEndpoint('registry.lan:5001', { insecureRegistries })).toMatchObject({
      secure: true,
    });
    expect(await resolveEndpoint('192.0.2.7:443', { insecureRegistries })).toMatchObject({
      origin: 'http://192.0.2.7:443',
      secure: false,
    });
    expect(await resolveEndpoint('192.0.3.7', { insecureRegistries })).toMatchObject({ secure: true });
    expect(await resolveEndpoint('[fd00::9]:5000', { insecureRegistries })).toMatchObject({ secure: false });
    // A name that does not resolve is not in any CIDR.
    expect(await resolveEndpoint('nowhere.invalid:5000', { insecureRegistries })).toMatchObject({
      origin: 'https://nowhere.invalid:5000',
      secure: true,
    });
  });

  it("trusts the host's certs.d/<host:port>/*.crt files, in name order, and nothing for other hosts", async () => {
    expect(await resolveEndpoint('registry.lan:5000', { insecureRegistries: [], certsDir })).toEqual({
      host: 'registry.lan:5000',
      origin: 'https://registry.lan:5000',
      secure: true,
      ca: ['A', 'B'],
    });
    expect(await resolveEndpoint('other.lan', { insecureRegistries: [], certsDir })).toEqual({
      host: 'other.lan',
      origin: 'https://other.lan',
      secure: true,
    });
  });

  it('reaches Docker Hub at registry-1.docker.io', async () => {
    expect(await resolveEndpoint('docker.io', { insecureRegistries: [] })).toMatchObject({
      host: 'registry-1.docker.io',
      origin: 'https://registry-1.docker.io',
    });
  });
});
