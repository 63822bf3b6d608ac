// The ping floor (ping-floor.ts) started as a process of its own, its socket in `dir`.
import { join } from 'node:path';
import { type ServerProcess, startServerProcess } from './server-process.ts';

const PING_FLOOR = join(import.meta.dirname, 'ping-floor.ts');

export function startPingFloor(dir: string): Promise<ServerProcess> {
  const socket = join(dir, 'floor.sock');
  return startServerProcess({
    name: 'ping-floor',
    command: process.execPath,
    args: ['--import', import.meta.resolve('tsx'), PING_FLOOR, socket],
    socket,
    readyTimeoutMs: 30_000,
    stopGraceMs: 3000,
  });
}
