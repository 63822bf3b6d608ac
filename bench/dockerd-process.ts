// A real dockerd as the reference engine for the API section, started by hand only if it is installed (the bench
// never installs it). vfs storage and no networking: nothing on the host is touched beyond its own folders.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { track } from '../test/rig/processes.ts';

export const DOCKERD = '/usr/sbin/dockerd';
const READY_TIMEOUT_MS = 30_000;
// dockerd stops its own containerd on SIGTERM; a SIGKILL would leave that one behind.
const STOP_GRACE_MS = 20_000;
const LOG_LIMIT = 64 * 1024;

export function dockerdInstalled(): boolean {
  return existsSync(DOCKERD);
}

export interface DockerdProcess {
  pid: number;
  socket: string;
  logs(): string;
  stop(): Promise<void>;
}

export async function startDockerd(dir: string): Promise<DockerdProcess> {
  await mkdir(dir, { recursive: true });
  const socket = join(dir, 'dockerd.sock');
  const child = spawn(
    DOCKERD,
    [
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--storage-driver=vfs',
      '--host',
      `unix://${socket}`,
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'dockerd.pid'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((done, fail) => {
    child.once('spawn', done);
    child.once('error', fail);
  });
  const proc = track('dockerd', child);
  let log = '';
  const append = (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.length > LOG_LIMIT) log = log.slice(log.length - LOG_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const stop = () => proc.stop(STOP_GRACE_MS);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const client = new Client('http://localhost', { socketPath: socket });
    try {
      const response = await client.request({ method: 'GET', path: '/_ping' });
      await response.body.dump();
      if (response.statusCode === 200) return { pid: proc.pid, socket, logs: () => log, stop };
    } catch {
      // not listening yet
    } finally {
      await client.close().catch(() => {});
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`dockerd did not answer GET /_ping within ${READY_TIMEOUT_MS} ms\n${log}`);
}
