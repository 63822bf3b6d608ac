import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImage, inspectImage, isAlive, MULTI_SPEC, type Rig, startRig } from '../rig/index.ts';

describe('startRig', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({ fronts: true, seed: true });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('seeds the standard images into every registry, reachable through the fronts', async () => {
    for (const endpoint of [rig.token, rig.htpasswd, rig.none]) {
      expect(endpoint.host).toBe(endpoint.front!.host);
      expect(Object.keys(endpoint.images).sort()).toEqual(['multi', 'public/small', 'small', 'small-v2s2']);
      expect(endpoint.images.small!.ref).toBe(`${endpoint.host}/small:1`);
    }
    const creds = rig.creds;
    const small = await inspectImage(rig.token.images.small!.ref, { creds });
    expect(small['Digest']).toBe(rig.token.images.small!.digest);
    const v2 = await inspectImage(rig.htpasswd.images['small-v2s2']!.ref, { creds, what: 'raw' });
    expect(v2['mediaType']).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const multi = await inspectImage(rig.none.images.multi!.ref, { what: 'raw' });
    expect((multi['manifests'] as unknown[]).length).toBe(MULTI_SPEC.platforms!.length);
  });

  it('the token registry lets anonymous callers pull public/ only', async () => {
    const anonymous = await inspectImage(rig.token.images['public/small']!.ref);
    expect(anonymous['Digest']).toBe(rig.token.images['public/small']!.digest);
    await expect(inspectImage(rig.token.images.small!.ref)).rejects.toThrow(/unauthorized|denied/i);
  });

  it('the fronts record a real client pull, with credentials only as hashes', async () => {
    const front = rig.token.front!;
    front.reset();
    const out = await mkdtemp(join(tmpdir(), 'dockhand-rig-pull-'));
    try {
      await copyImage(`docker://${rig.token.images.small!.ref}`, `oci:${out}:small`, { srcCreds: rig.creds });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    const records = front.requests();
    const blobs = records.filter((r) => r.kind === 'blob' && r.method === 'GET' && r.status === 200);
    // Two layers and the config.
    expect(blobs.length).toBe(3);
    expect(blobs.every((r) => r.auth.scheme === 'Bearer' && r.auth.sha256 !== undefined)).toBe(true);
    expect(rig.tokenServer.log().some((e) => e.user === 'testuser')).toBe(true);
  });

  it('stop() ends every registry process', async () => {
    const small = await startRig({ registries: ['none'] });
    const pid = small.none.registry.pid;
    expect(isAlive(pid)).toBe(true);
    expect(() => small.token.host).toThrow(/not asked for/);
    await small.stop();
    expect(isAlive(pid)).toBe(false);
  });
});
