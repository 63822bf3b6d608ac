// `dockhand catalog`, `dockhand tags` and `dockhand manifest inspect` run as users run them (the package's bin, no
// daemon), logged in through docker's config.json or the Dockhand token store, against the real token registry.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { humanSize } from '../../client/index.ts';
import {
  type BrowseRegistry,
  FULL_USER,
  LIMITED_USER,
  startBrowseRegistry,
} from '../helpers/browse-registry.ts';
import { cliHome, runDockhand } from '../helpers/dockhand-cli.ts';

let rig: BrowseRegistry;
let dir: string;

beforeAll(async () => {
  rig = await startBrowseRegistry(3);
  dir = await mkdtemp(path.join(tmpdir(), 'dockhand-browse-cli-'));
});

afterAll(async () => {
  await rig?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A CLI user whose docker config.json holds `user`'s password for the registry (as `docker login` writes it). */
async function dockerConfigUser(name: string, user: { username: string; password: string }) {
  // No daemon is involved: DOCKER_HOST points at a socket nobody listens on.
  const home = cliHome(path.join(dir, name), path.join(dir, name, 'no-daemon.sock'));
  await mkdir(home.dockerConfigDir, { recursive: true });
  const auth = Buffer.from(`${user.username}:${user.password}`).toString('base64');
  await writeFile(
    path.join(home.dockerConfigDir, 'config.json'),
    JSON.stringify({ auths: { [rig.host]: { auth } } }),
  );
  return home.env;
}

describe('dockhand catalog and tags', () => {
  it('lists every repository across pages of 2', async () => {
    const env = await dockerConfigUser('full', FULL_USER);
    rig.front.reset();
    const table = await runDockhand(['catalog', '--page-size', '2', rig.host], env);
    const pages = rig.front.requests().filter((r) => r.path === '/v2/_catalog' && r.status === 200);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(rig.allRepositories.length / 2));
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(`REPOSITORY\n${rig.allRepositories.map((r) => `${r}\n`).join('')}`);
  });

  it('tells a limited user the catalog is not granted, and lists the tags it may pull', async () => {
    const env = await dockerConfigUser('limited', LIMITED_USER);
    const refused = await runDockhand(['catalog', rig.host], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      `dockhand: registry ${rig.host} does not let this login list its repositories (registry:catalog:* not granted)\n`,
    );
    const tags = await runDockhand(['tags', `${rig.host}/browse/r01`], env);
    expect(tags.stderr).toBe('');
    const name = `${rig.host}/browse/r01`;
    expect(tags.stdout).toBe(`${'REPOSITORY'.padEnd(name.length)}   TAG\n${name}   1\n`);
    const denied = await runDockhand(['tags', `${rig.host}/small`, '--format', 'json'], env);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe(
      `dockhand: registry ${rig.host} denied access to repository small for this login\n`,
    );
  });

  it('browses with a refresh-token login (the identity token dockhand login stores), rotated with no reuse', async () => {
    const home = cliHome(path.join(dir, 'oauth'), path.join(dir, 'oauth', 'no-daemon.sock'));
    const login = await runDockhand(
      ['login', '-u', FULL_USER.username, '--password-stdin', rig.host],
      home.env,
      `${FULL_USER.password}\n`,
    );
    expect(login.code, login.stderr).toBe(0);
    rig.tokenServer.resetLog();
    const catalog = await runDockhand(['catalog', '--format', 'json', rig.host], home.env);
    expect(catalog.code, catalog.stderr).toBe(0);
    expect(
      catalog.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(rig.allRepositories.map((r) => ({ Repository: r })));
    const tags = await runDockhand(['tags', '--format', 'json', `${rig.host}/small`], home.env);
    expect(tags.stdout).toBe(`${JSON.stringify({ Repository: `${rig.host}/small`, Tag: '1' })}\n`);
    const counters = rig.tokenServer.counters();
    // One refresh per process and scope (the catalog, then small), each rotating the stored refresh token.
    expect(counters.refreshes).toBe(2);
    expect(counters.reuseDetections).toBe(0);
  });
});

describe('dockhand manifest inspect', () => {
  it('lists the platforms of a multi-platform image', async () => {
    const env = await dockerConfigUser('inspect', FULL_USER);
    const { multi } = rig.images;
    const result = await runDockhand(['manifest', 'inspect', `${rig.host}/multi:1`], env);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      `Name:        ${rig.host}/multi:1`,
      'MediaType:   application/vnd.oci.image.index.v1+json',
      `Digest:      ${multi.digest}`,
    ]);
    const rows = lines.filter((l) => l.startsWith('linux/')).map((l) => l.split(/\s+/).slice(0, 2));
    expect(rows).toEqual([
      ['linux/amd64', multi.build.images[0]!.manifestDigest],
      ['linux/arm64', multi.build.images[1]!.manifestDigest],
      ['linux/arm/v7', multi.build.images[2]!.manifestDigest],
    ]);
  });

  it('lists the layers and sizes of a single image, and the same as JSON', async () => {
    const env = await dockerConfigUser('inspect-single', FULL_USER);
    const { small } = rig.images;
    const layers = small.build.images[0]!.layers;
    const result = await runDockhand(['manifest', 'inspect', `${rig.host}/small:1`], env);
    expect(result.stderr).toBe('');
    const rows = result.stdout
      .split('\n')
      .filter((l) => l.startsWith('sha256:'))
      .map((l) => l.split(/\s{3,}/));
    expect(rows.map(([digest]) => digest)).toEqual(layers.map((l) => l.digest));
    expect(rows.map(([, , size]) => size)).toEqual(layers.map((l) => humanSize(l.size)));
    const total = layers.reduce((sum, l) => sum + l.size, small.build.images[0]!.configSize);
    expect(result.stdout).toContain(`\nTotal size:  ${humanSize(total)} (config and 2 layers, compressed)\n`);
    const json = await runDockhand(['manifest', 'inspect', '--format', 'json', `${rig.host}/small:1`], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      kind: 'manifest',
      digest: small.digest,
      layers: layers.map((l) => ({ digest: l.digest, size: l.size })),
    });
  });
});
