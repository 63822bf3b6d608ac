// The data root on a small filesystem (a tmpfs this test mounts, as root) fills during a pull: the pull fails with
// "no space left on device", nothing unverified gets a blob's name, the daemon keeps serving, and once space is
// freed the next pull resumes the partial blob with a Range request for the rest.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { expectPullSucceeded, pullRaw, sha256File } from '../helpers/raw-pull.ts';
import { type BuiltImage, buildImage, type LayerInfo } from '../rig/fixtures.ts';
import { type Front, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { pushImage } from '../rig/skopeo.ts';

const LAYER_BYTES = 24 * 1024 * 1024;
const SMALL_FS = '12m';
const ROOMY_FS = '64m';

let registry: Registry;
let front: Front;
let image: BuiltImage;
let layer: LayerInfo;
let dir: string;
let dataRoot: string;
let mounted = false;
let daemon: TestDaemon | undefined;

function mountTmpfs(target: string, size: string, remount = false): void {
  if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs and must run as root (CI does)');
  const options = remount ? `remount,size=${size}` : `size=${size},mode=0700`;
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', target], { stdio: 'pipe' });
}

async function get(socket: string, path: string): Promise<{ status: number; body: string }> {
  const client = new Client('http://localhost', { socketPath: socket });
  try {
    const response = await client.request({ method: 'GET', path });
    return { status: response.statusCode, body: await response.body.text() };
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  image = await buildImage({ layers: [LAYER_BYTES], seed: 41 }, { tag: '1' });
  const found = image.images[0]?.layers[0];
  if (!found) throw new Error('the fixture has no layer');
  layer = found;
  registry = await startRegistry({ auth: 'none' });
  await pushImage({ layoutDir: image.layoutDir, tag: image.tag, dest: `${registry.host}/full:1` });
  front = await startFront({ target: registry.url });
  dir = await mkdtemp(join(tmpdir(), 'dockhand-full-'));
  dataRoot = join(dir, 'data');
  await mkdir(dataRoot);
  mountTmpfs(dataRoot, SMALL_FS);
  mounted = true;
});

afterAll(async () => {
  await daemon?.stop();
  if (mounted) execFileSync('umount', [dataRoot]);
  await front?.stop();
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a data root that fills during a pull', () => {
  it('fails the pull with "no space left on device", keeps serving, and resumes once space is freed', async () => {
    daemon = await startTestDaemon({ dir });
    expect(daemon.dataRoot).toBe(dataRoot);
    const fromImage = `${front.host}/full`;
    const layerHex = layer.digest.slice('sha256:'.length);

    const failed = await pullRaw(daemon.socket, fromImage, '1');
    const partial = join(dataRoot, 'oci', 'ingest', `${layerHex}.partial`);
    // dockerd's wording (Go's): the operation, the file, the errno's text; in the stream, after the first lines. The
    // file is the partial, or the part file of a later range when the layer came over several connections.
    expect(failed.status).toBe(200);
    const files = [partial, ...(await readdir(dirname(partial))).map((name) => join(dirname(partial), name))];
    expect(files.map((file) => `write ${file}: no space left on device`)).toContain(
      failed.messages.at(-1)?.error,
    );
    expect(daemon.logs()).not.toMatch(/"stack"/);

    // Still serving, and nothing is listed or committed that was not verified.
    expect(await get(daemon.socket, '/_ping')).toEqual({ status: 200, body: 'OK' });
    expect(JSON.parse((await get(daemon.socket, '/images/json')).body)).toEqual([]);
    const blobDir = join(dataRoot, 'oci', 'blobs', 'sha256');
    const names = await readdir(blobDir);
    expect(names).not.toContain(layerHex);
    for (const name of names) expect(await sha256File(join(blobDir, name))).toBe(name);
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(layer.size);

    mountTmpfs(dataRoot, ROOMY_FS, true);
    front.reset();
    expectPullSucceeded(await pullRaw(daemon.socket, fromImage, '1'));
    const gets = front.requests().filter((r) => r.path.endsWith(layer.digest) && r.method === 'GET');
    // The resume starts where the kept bytes end and fetches none of them again; a blob this large may be resumed in
    // several ranges when more connections pay.
    const starts = gets.map((r) => Number(/^bytes=(\d+)-/.exec(r.range ?? '')?.[1]));
    expect(Math.min(...starts)).toBe(kept);
    expect(await sha256File(join(blobDir, layerHex))).toBe(layerHex);
  });
});
