import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  isAlive,
  startFront,
  startRegistry,
  startTokenServer,
  stopAll,
  sweepStaleTempDirs,
  trackedPids,
} from '../rig/index.ts';

const REGISTRY_MODULE = fileURLToPath(new URL('../rig/registry.ts', import.meta.url));

/** Runs a node child (with tsx) that starts a registry, prints its PID and data dir, then does `then`. */
async function childWithRegistry(
  then: 'hang' | 'exit',
): Promise<{ child: ReturnType<typeof spawn>; pid: number; dataDir: string }> {
  const script = `
    const { startRegistry } = await import(${JSON.stringify(REGISTRY_MODULE)});
    const registry = await startRegistry({ auth: 'none' });
    console.log(JSON.stringify({ pid: registry.pid, dataDir: registry.dataDir }));
    ${then === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    if (out.includes('\n')) break;
  }
  return { child, ...(JSON.parse(out) as { pid: number; dataDir: string }) };
}

async function waitDead(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('process cleanup', () => {
  it('stopAll() stops every registry, token server and front this process started', async () => {
    const ts = await startTokenServer();
    const registry = await startRegistry({ auth: 'token', tokenServer: ts });
    const front = await startFront({ target: registry.url });
    expect(trackedPids()).toContain(registry.pid);
    await stopAll();
    expect(isAlive(registry.pid)).toBe(false);
    expect(trackedPids()).toEqual([]);
    expect(existsSync(registry.dataDir)).toBe(false);
    await expect(fetch(`${front.url}/v2/`)).rejects.toThrow();
    await expect(fetch(ts.realm)).rejects.toThrow();
    // Stopping again is harmless.
    await registry.stop();
    await front.stop();
  });

  it('a process that exits without stopping its registry takes it down (exit hook)', async () => {
    const { child, pid, dataDir } = await childWithRegistry('exit');
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    expect(await waitDead(pid)).toBe(true);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('a process killed with SIGKILL takes its registry down too (watchdog)', async () => {
    const { child, pid, dataDir } = await childWithRegistry('hang');
    expect(isAlive(pid)).toBe(true);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(await waitDead(pid)).toBe(true);
    // No exit hook ran, so the data dir stays until the next sweep (global setup runs one per test run).
    expect(existsSync(dataDir)).toBe(true);
    expect(sweepStaleTempDirs(dirname(dataDir))).toContain(dataDir);
    expect(existsSync(dataDir)).toBe(false);
  });
});
