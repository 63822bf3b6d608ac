// The CLI's output as a person and a pipe see it: `dockhand pull` under a real pseudo-terminal (tmux), the screen
// read back; Ctrl-C sent as a key; and the same pull piped. The registry is behind the rig's front, which counts
// the blob bytes it serves and can throttle them.

import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { type CliHome, cliHome, DOCKHAND_BIN, runDockhand } from '../helpers/dockhand-cli.ts';
import { startTmux, type TmuxSession } from '../helpers/tmux.ts';
import { type BuiltImage, buildImage } from '../rig/fixtures.ts';
import { type Front, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { pushImage } from '../rig/skopeo.ts';

// Three layers: enough to show several live lines, small enough to pull in a moment.
const SPEC = { layers: [1536 * 1024, 1024 * 1024, 768 * 1024], seed: 11 };

let registry: Registry;
let front: Front;
let image: BuiltImage;
let daemon: TestDaemon;
let dir: string;
let home: CliHome;
let tmux: TmuxSession | undefined;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(tmpdir(), 'dockhand-cli-tty-'));
  registry = await startRegistry({ auth: 'none' });
  front = await startFront({ target: registry.url });
  image = await buildImage(SPEC, { tag: '1' });
  await pushImage({ layoutDir: image.layoutDir, tag: image.tag, dest: `${registry.host}/layers:1` });
});

afterEach(async () => {
  await tmux?.kill();
  tmux = undefined;
  await daemon?.close();
  await front.setFaults([]);
});

afterAll(async () => {
  await front?.stop();
  await registry?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

async function freshDaemon(): Promise<void> {
  daemon = await startTestDaemon({ dir: await fs.mkdtemp(path.join(dir, 'daemon-')) });
  home = cliHome(dir, daemon.socket);
}

const ref = () => `${front.host}/layers:1`;
const layerIds = () => (image.images[0]?.layers ?? []).map((layer) => layer.digest.slice(7, 19));
const blobBytes = () =>
  front
    .requests()
    .filter((r) => r.kind === 'blob')
    .reduce((sum, r) => sum + r.bytes, 0);

describe('dockhand pull on a terminal', () => {
  it('draws a live line per layer with a bar in MB, and ends with every layer on Pull complete', async () => {
    await freshDaemon();
    // Slow enough that the bars are on screen for a while.
    await front.setFaults([{ type: 'slow', bytesPerSecond: 1_500_000 }]);
    tmux = await startTmux([process.execPath, DOCKHAND_BIN, 'pull', ref()], home.env);
    const during = await tmux.waitFor(/Downloading \[=*>? *\] +[\d.]+[kM]B\/[\d.]+MB/);
    const screen = await tmux.waitFor(/\[exit \d+\]/);
    console.log(`screen while pulling:\n${during}\n\nscreen at the end:\n${screen}`);
    expect(screen).toContain('[exit 0]');
    const lines = screen.split('\n');
    for (const id of layerIds()) expect(lines).toContain(`${id}: Pull complete`);
    // One line per layer: no layer id is left on a second, stale line.
    for (const id of layerIds()) expect(lines.filter((l) => l.startsWith(`${id}:`))).toHaveLength(1);
    expect(screen).toMatch(/^Digest: sha256:[0-9a-f]{64}$/m);
    expect(screen).toContain(`Status: Downloaded newer image for ${ref()}`);
    expect(lines.at(-2)).toBe(ref());
  });

  it('Ctrl-C cancels the pull in the daemon, exits 130, and no blob byte is served afterwards', async () => {
    await freshDaemon();
    await front.setFaults([{ type: 'slow', bytesPerSecond: 200_000 }]);
    front.reset();
    tmux = await startTmux([process.execPath, DOCKHAND_BIN, 'pull', ref()], home.env);
    await tmux.waitFor(/Downloading \[/);
    await tmux.sendKeys('C-c');
    const screen = await tmux.waitFor(/\[exit \d+\]/, 10_000);
    expect(screen).toContain('[exit 130]');
    expect(screen).not.toMatch(/Pull complete/);
    // The daemon closes its registry connections as it cancels; give them a moment, then nothing more may flow.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const atExit = blobBytes();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const later = blobBytes();
    console.log(`Ctrl-C: ${atExit} blob bytes served by exit + 0.5 s, ${later} by exit + 2 s`);
    expect(atExit).toBeGreaterThan(0);
    expect(later).toBe(atExit);
    expect(atExit).toBeLessThan(SPEC.layers.reduce((a, b) => a + b, 0));
  });
});

describe('dockhand pull into a pipe', () => {
  it('writes plain lines: no escape byte, no carriage return, one line per state change', async () => {
    await freshDaemon();
    const result = await runDockhand(['pull', ref()], home.env);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/[\u001b\r]/);
    for (const id of layerIds()) {
      expect(result.stdout).toContain(`${id}: Pull complete\n`);
      expect(result.stdout.split('\n').filter((l) => l === `${id}: Pull complete`)).toHaveLength(1);
    }
    expect(result.stdout).toMatch(/\nDigest: sha256:[0-9a-f]{64}\n/);
    expect(result.stdout.endsWith(`${ref()}\n`)).toBe(true);
  });

  it('-q prints only the reference', async () => {
    await freshDaemon();
    const result = await runDockhand(['pull', '-q', ref()], home.env);
    expect(result).toMatchObject({ code: 0, stdout: `${ref()}\n`, stderr: '' });
  });

  it('push draws the same way: plain lines per layer, then the digest line', async () => {
    await freshDaemon();
    expect((await runDockhand(['pull', '-q', ref()], home.env)).code).toBe(0);
    const target = `${front.host}/pushed:1`;
    expect(await runDockhand(['tag', ref(), target], home.env)).toMatchObject({ code: 0, stdout: '' });
    const result = await runDockhand(['push', target], home.env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/[\u001b\r]/);
    expect(result.stdout).toContain(`The push refers to repository [${front.host}/pushed]`);
    expect(result.stdout).toMatch(/^1: digest: sha256:[0-9a-f]{64} size: \d+$/m);
  });
});
