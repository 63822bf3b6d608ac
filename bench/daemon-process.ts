// The Dockhand daemon as its own process (`node cli/dockhand.js daemon`), so its memory can be read from /proc
// without the bench's own heap mixed in.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ServerProcess, startServerProcess } from './server-process.ts';

export const CLI = resolve(import.meta.dirname, '..', 'cli', 'dockhand.js');

export interface DaemonProcess extends ServerProcess {
  dataRoot: string;
}

/** Starts the daemon with its socket and data root in `dir` (created if missing). */
export async function startDaemonProcess(options: { dir: string; args?: string[] }): Promise<DaemonProcess> {
  await mkdir(options.dir, { recursive: true });
  const socket = join(options.dir, 'dockhand.sock');
  const dataRoot = join(options.dir, 'data');
  const server = await startServerProcess({
    name: 'dockhand-daemon',
    command: process.execPath,
    args: [CLI, 'daemon', '-H', `unix://${socket}`, '--data-root', dataRoot, ...(options.args ?? [])],
    socket,
    readyTimeoutMs: 60_000,
    stopGraceMs: 3000,
  });
  return { ...server, dataRoot };
}
