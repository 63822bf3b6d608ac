// The README's quick start on a machine without XDG_RUNTIME_DIR (a root shell, a container, CI): `npm start`'s
// command prints where the daemon listens and the exact `export DOCKER_HOST=unix://…` line, and that line, copied
// into another shell in another directory, is all `dockhand` and the docker CLI need.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DOCKHAND_BIN, runDockhand } from '../helpers/dockhand-cli.ts';

let dir: string;

beforeAll(async () => {
  dir = await fs.realpath(await fs.mkdtemp(path.join(tmpdir(), 'dockhand-quick-start-')));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

it('prints the DOCKER_HOST line with XDG_RUNTIME_DIR unset, and the line works from another directory', async () => {
  const checkout = path.join(dir, 'checkout');
  await fs.mkdir(checkout);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, XDG_DATA_HOME: path.join(dir, 'data') };
  delete env['XDG_RUNTIME_DIR'];
  delete env['DOCKER_HOST'];
  // What `npm start` runs, from the checkout.
  const daemon = spawn(process.execPath, [DOCKHAND_BIN, 'daemon'], {
    cwd: checkout,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    daemon.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    const deadline = Date.now() + 30_000;
    while (!/export DOCKER_HOST=\S+\n/.test(out)) {
      if (Date.now() > deadline || daemon.exitCode !== null) throw new Error(`no DOCKER_HOST line: ${out}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const socket = path.join(checkout, '.dockhand', 'dockhand.sock');
    expect(out).toContain(`Dockhand daemon listening on unix://${socket}`);
    expect(out).toMatch(new RegExp(`^export DOCKER_HOST=unix://${socket}$`, 'm'));
    const line = /^export (DOCKER_HOST)=(\S+)$/m.exec(out);
    const shell = { ...env, DOCKER_HOST: line?.[2] };
    const version = await runDockhand(['version'], shell);
    expect(version.stderr).toBe('');
    expect(version.stdout).toMatch(/^Server: Dockhand/m);
    const images = await runDockhand(['images'], shell);
    expect(images).toMatchObject({ code: 0, stdout: 'REPOSITORY   TAG   IMAGE ID   CREATED   SIZE\n' });
  } finally {
    daemon.kill('SIGTERM');
    await once(daemon, 'exit');
  }
});
