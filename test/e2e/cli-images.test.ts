// The local-image commands of `dockhand` against a real daemon: images (table, json, --digests, filter), image
// inspect, tag, rmi, image prune, events, info, with docker's columns and wording. The tests run in order, each on
// what the one before left.

import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { type CliHome, cliHome, runDockhand } from '../helpers/dockhand-cli.ts';
import { buildImage } from '../rig/fixtures.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { SMALL_SPEC } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';

let registry: Registry;
let daemon: TestDaemon;
let dir: string;
let home: CliHome;
let ref: string;
let digest: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(tmpdir(), 'dockhand-cli-images-'));
  registry = await startRegistry({ auth: 'none' });
  const small = await buildImage(SMALL_SPEC, { tag: '1' });
  ref = `${registry.host}/small:1`;
  ({ digest } = await pushImage({ layoutDir: small.layoutDir, tag: small.tag, dest: ref }));
  daemon = await startTestDaemon();
  home = cliHome(dir, daemon.socket);
  expect((await runDockhand(['pull', '-q', ref], home.env)).code).toBe(0);
});

afterAll(async () => {
  await daemon?.close();
  await registry?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

const start = Math.floor(Date.now() / 1000) - 60;

it('tag, then images as a table with digests and as JSON with a filter', async () => {
  expect(await runDockhand(['tag', ref, 'local/copy:2'], home.env)).toMatchObject({ code: 0, stdout: '' });

  const table = await runDockhand(['images', '--digests'], home.env);
  expect(table.code).toBe(0);
  const [header, ...rows] = table.stdout.trimEnd().split('\n');
  expect(header).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
  expect(rows).toHaveLength(2);
  expect(rows.find((r) => r.startsWith(`${registry.host}/small `))).toMatch(
    new RegExp(`^${registry.host}/small\\s+1\\s+${digest}\\s+[0-9a-f]{12}\\s+.+ ago\\s+[\\d.]+[kM]B$`),
  );

  const json = await runDockhand(['images', '--format', 'json', '--filter', 'reference=local/*'], home.env);
  const listed = json.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(listed).toEqual([expect.objectContaining({ Repository: 'local/copy', Tag: '2' })]);
});

it('image inspect prints what it found and names what it did not (exit 1)', async () => {
  const inspect = await runDockhand(['image', 'inspect', 'local/copy:2', 'no/such:1'], home.env);
  expect(inspect.code).toBe(1);
  expect(JSON.parse(inspect.stdout)).toEqual([
    expect.objectContaining({ RepoTags: expect.arrayContaining(['local/copy:2']) }),
  ]);
  expect(inspect.stderr).toBe('Error: No such image: no/such:1\n');
});

it('rmi untags, image prune -a -f removes the rest', async () => {
  const rmi = await runDockhand(['rmi', 'local/copy:2'], home.env);
  expect(rmi).toMatchObject({ code: 0, stdout: 'Untagged: local/copy:2\n' });

  const prune = await runDockhand(['image', 'prune', '-a', '-f'], home.env);
  expect(prune.code).toBe(0);
  expect(prune.stdout).toContain(`untagged: ${ref}`);
  expect(prune.stdout).toMatch(/Total reclaimed space: [\d.]+[kM]?B\n$/);
});

it('events between two times, and info', async () => {
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const events = await runDockhand(['events', '--since', String(start), '--until', until], home.env);
  expect(events.code).toBe(0);
  expect(events.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z image pull .*small:1/m);
  expect(events.stdout).toMatch(/ image untag .*\(name=/m);

  const info = await runDockhand(['info'], home.env);
  expect(info.code).toBe(0);
  expect(info.stdout).toMatch(/^ Images: 0$/m);
  expect(info.stdout).toContain(` Docker Root Dir: ${daemon.dataRoot}`);
});
