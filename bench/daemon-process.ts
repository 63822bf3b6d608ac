// The Dockhand daemon as its own process (`node cli/dockhand.js daemon`), so its memory can be read from /proc
// without the bench's own heap mixed in. Registered with the rig's process tracker: it dies with the bench.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { track } from '../test/rig/processes.ts';

const CLI = resolve(import.meta.dirname, '..', 'cli', 'dockhand.js');
const LOG_LIMIT = 64 * 1024;
const READY_TIMEOUT_MS = 60_000;

export interface DaemonProcess {
  pid: number;
  socket: string;
  dataRoot: string;
  /** The daemon's last 64 KiB of stdout+stderr. */
  logs(): string;
  stop(): Promise<void>;
}

export interface DaemonProcessOptions {
  /** Folder for the socket and the data root; created if missing. */
  dir: string;
  extraArgs?: string[];
}

export async function startDaemonProcess(options: DaemonProcessOptions): Promise<DaemonProcess> {
  await mkdir(options.dir, { recursive: true });
  const socket = join(options.dir, 'dockhand.sock');
  const dataRoot = join(options.dir, 'data');
  const child = spawn(
    process.execPath,
    [CLI, 'daemon', '-H', `unix://${socket}`, '--data-root', dataRoot, ...(options.extraArgs ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((done, fail) => {
    child.once('spawn', done);
    child.once('error', fail);
  });
  const proc = track('dockhand-daemon', child);
  let log = '';
  const append = (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.length > LOG_LIMIT) log = log.slice(log.length - LOG_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const daemon: DaemonProcess = {
    pid: proc.pid,
    socket,
    dataRoot,
    logs: () => log,
    stop: () => proc.stop(),
  };
  try {
    await waitForPing(socket, proc.exited);
  } catch (error) {
    await proc.stop();
    throw new Error(`dockhand daemon did not start: ${(error as Error).message}\n${log}`);
  }
  return daemon;
}

async function waitForPing(socket: string, exited: Promise<void>): Promise<void> {
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (dead) throw new Error('process exited');
    const client = new Client('http://localhost', { socketPath: socket });
    try {
      const response = await client.request({ method: 'GET', path: '/_ping' });
      await response.body.dump();
      if (response.statusCode === 200) return;
    } catch {
      // socket not there yet
    } finally {
      await client.close().catch(() => {});
    }
    await sleep(50);
  }
  throw new Error(`no answer to GET /_ping within ${READY_TIMEOUT_MS} ms`);
}
