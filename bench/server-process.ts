// A server the bench starts as its own process and talks to over a unix socket: spawned, tracked by the rig (so it
// dies with the bench), its output kept for error messages, ready once GET /_ping answers 200.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { spawnTracked } from '../test/rig/processes.ts';

const LOG_LIMIT = 64 * 1024;

export interface ServerProcess {
  pid: number;
  socket: string;
  /** The last 64 KiB of stdout+stderr. */
  logs(): string;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  socket: string;
  readyTimeoutMs: number;
  /** SIGTERM, then SIGKILL after this long. */
  stopGraceMs: number;
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const { proc, logs } = await spawnTracked(options.name, options.command, options.args, LOG_LIMIT);
  const server: ServerProcess = {
    pid: proc.pid,
    socket: options.socket,
    logs,
    stop: () => proc.stop(options.stopGraceMs),
  };
  try {
    await waitForPing(options.socket, proc.exited, options.readyTimeoutMs);
  } catch (error) {
    await server.stop();
    throw new Error(`${options.name} did not start: ${(error as Error).message}\n${logs()}`);
  }
  return server;
}

async function waitForPing(socket: string, exited: Promise<void>, timeoutMs: number): Promise<void> {
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (dead) throw new Error('process exited');
    const client = new Client('http://localhost', { socketPath: socket });
    try {
      const response = await client.request({ method: 'GET', path: '/_ping' });
      await response.body.dump();
      if (response.statusCode === 200) return;
    } catch {
      // not listening yet
    } finally {
      await client.close().catch(() => {});
    }
    await sleep(50);
  }
  throw new Error(`no answer to GET /_ping within ${timeoutMs} ms`);
}
