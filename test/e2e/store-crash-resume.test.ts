// The daemon as its own process, killed with SIGKILL in the middle of a big blob fetched in parallel ranges (the front
// caps each connection): restarted on the same data root, the pull resumes every range with a Range request for
// what that range misses, and nothing unverified has a blob's name. A second daemon on a data root in use refuses to
// start.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullRaw, sha256File } from '../helpers/raw-pull.ts';
import { type BuiltImage, buildImage, type LayerInfo } from '../rig/fixtures.ts';
import { type Front, startFront } from '../rig/front.ts';
import { type TrackedProcess, track } from '../rig/processes.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { pushImage } from '../rig/skopeo.ts';

const CLI = join(import.meta.dirname, '..', '..', 'cli', 'dockhand.js');
const LAYER_BYTES = 32 * 1024 * 1024;
// Low enough that a loaded machine still shows the cap per connection, so ranges form.
const SLOW_BYTES_PER_SECOND = 512 * 1024;

interface DaemonProcess {
  proc: TrackedProcess;
  output(): string;
}

/** Spawns `dockhand daemon`; resolves once it answers GET /_ping on `socket`. */
async function spawnDaemon(socket: string, dataRoot: string): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [CLI, 'daemon', '-H', `unix://${socket}`, '--data-root', dataRoot], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track(`dockhand:${socket}`, child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}: ${output}`);
    if (await pings(socket)) return { proc, output: () => output };
    await sleep(100);
  }
  await proc.stop();
  throw new Error(`daemon did not answer on ${socket}: ${output}`);
}

async function pings(socket: string): Promise<boolean> {
  const client = new Client('http://localhost', { socketPath: socket });
  try {
    const response = await client.request({ method: 'GET', path: '/_ping' });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  } finally {
    await client.close();
  }
}

/** Runs a command to its end: exit code and combined output. */
function runToEnd(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

/** POST /images/create; resolves with the JSON lines (or rejects when the connection dies). */
let registry: Registry;
let front: Front;
let image: BuiltImage;
let layer: LayerInfo;
let dir: string;
const running: TrackedProcess[] = [];

beforeAll(async () => {
  image = await buildImage({ layers: [LAYER_BYTES], seed: 32 }, { tag: '1' });
  const found = image.images[0]?.layers[0];
  if (!found) throw new Error('the fixture has no layer');
  layer = found;
  registry = await startRegistry({ auth: 'none' });
  await pushImage({ layoutDir: image.layoutDir, tag: image.tag, dest: `${registry.host}/big:1` });
  front = await startFront({ target: registry.url });
  dir = await mkdtemp(join(tmpdir(), 'dockhand-crash-'));
});

afterAll(async () => {
  for (const proc of running) await proc.stop();
  await front?.stop();
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('daemon killed mid-download', () => {
  it('resumes every range of the blob after a restart, asking only for what each range misses', async () => {
    const socket = join(dir, 'dockhand.sock');
    const dataRoot = join(dir, 'data');
    const fromImage = `${front.host}/big`;
    const layerGets = () =>
      front.requests().filter((r) => r.method === 'GET' && r.path.endsWith(layer.digest));

    await front.setFaults([
      { type: 'slow', bytesPerSecond: SLOW_BYTES_PER_SECOND, pathIncludes: layer.digest },
    ]);
    const first = await spawnDaemon(socket, dataRoot);
    running.push(first.proc);
    const interrupted = pullMessages(socket, fromImage, '1').then(
      () => 'finished',
      () => 'cut',
    );
    // Kill once two ranges or more have bytes on disk, long before the blob's end.
    const hex = layer.digest.slice('sha256:'.length);
    const ingestDir = join(dataRoot, 'oci', 'ingest');
    const rangesOnDisk = async () => {
      const names = (await readdir(ingestDir).catch(() => [])).filter((n) => n.startsWith(hex));
      const sizes = await Promise.all(
        names.map((n) =>
          stat(join(ingestDir, n)).then(
            (s) => s.size,
            () => 0,
          ),
        ),
      );
      return sizes.filter((size) => size > 0).length;
    };
    const deadline = Date.now() + 20_000;
    while ((await rangesOnDisk()) < 2 && Date.now() < deadline) await sleep(50);
    first.proc.child.kill('SIGKILL');
    await first.proc.exited;
    const servedBeforeKill = layerGets().reduce((sum, r) => sum + r.bytes, 0);
    expect(layerGets().filter((r) => r.bytes > 0).length).toBeGreaterThanOrEqual(2);
    // Killed before the blob was whole (the front may have sent bytes that no range kept before the kill).
    const blobPath = join(dataRoot, 'oci', 'blobs', 'sha256', layer.digest.slice('sha256:'.length));
    expect(await stat(blobPath).catch(() => undefined)).toBeUndefined();
    expect(await interrupted).toBe('cut');

    // What the first daemon kept: the partial (the blob from byte 0) and a part file per later range.
    const kept: { start: number; bytes: number }[] = [];
    for (const name of await readdir(ingestDir)) {
      const start = name === `${hex}.partial` ? 0 : Number(/^[0-9a-f]+\.part-(\d+)$/.exec(name)?.[1]);
      expect(Number.isInteger(start), name).toBe(true);
      kept.push({ start, bytes: (await stat(join(ingestDir, name))).size });
    }
    kept.sort((a, b) => a.start - b.start);
    expect(kept.filter((k) => k.bytes > 0).length).toBeGreaterThanOrEqual(2);
    expect(kept.reduce((sum, k) => sum + k.bytes, 0)).toBeLessThanOrEqual(servedBeforeKill);
    expect(kept.reduce((sum, k) => sum + k.bytes, 0)).toBeLessThan(layer.size);

    await front.setFaults([]);
    front.reset();
    const second = await spawnDaemon(socket, dataRoot);
    running.push(second.proc);
    const messages = await pullMessages(socket, fromImage, '1');
    expect(messages.find((m) => m['error'] !== undefined)).toBeUndefined();
    expect(messages.at(-1)?.['status']).toBe(`Status: Downloaded newer image for ${fromImage}:1`);

    // Every range resumed where it stopped, and no kept byte was asked for again.
    const firstBytes = layerGets().map((r) => {
      expect(r.status).toBe(206);
      return Number(/^bytes=(\d+)-/.exec(r.range ?? '')?.[1]);
    });
    for (const [i, k] of kept.entries()) {
      const end = kept[i + 1]?.start ?? layer.size;
      if (k.start + k.bytes < end) expect(firstBytes).toContain(k.start + k.bytes);
    }
    for (const byte of firstBytes) {
      expect(kept.some((k) => byte >= k.start && byte < k.start + k.bytes)).toBe(false);
    }
    const refetched = layerGets().reduce((sum, r) => sum + r.bytes, 0);
    expect(refetched).toBeLessThan(layer.size);

    const blobDir = join(dataRoot, 'oci', 'blobs', 'sha256');
    const names = await readdir(blobDir);
    expect(names).toContain(layer.digest.slice('sha256:'.length));
    for (const name of names) expect(await sha256File(join(blobDir, name))).toBe(name);
    expect(await readdir(join(dataRoot, 'oci', 'ingest'))).toEqual([]);

    // A second daemon on the same data root (its own socket) refuses to start, naming the owner.
    const rival = spawn(
      process.execPath,
      [CLI, 'daemon', '-H', `unix://${join(dir, 'rival.sock')}`, '--data-root', dataRoot],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.push(track('dockhand:rival', rival));
    const { code, output } = await runToEnd(rival);
    expect(code).not.toBe(0);
    expect(output).toContain(`is in use by dockhand pid ${second.proc.pid}`);
    expect(await pings(socket)).toBe(true);
  });
});

async function pullMessages(
  socket: string,
  fromImage: string,
  tag: string,
): Promise<Record<string, unknown>[]> {
  const outcome = await pullRaw(socket, fromImage, tag);
  expect(outcome.status, outcome.message).toBe(200);
  return outcome.messages as Record<string, unknown>[];
}
