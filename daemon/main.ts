// Starting and stopping the daemon: the Engine API application served on every configured unix socket or loopback
// tcp address, and a shutdown that stops accepting, aborts running jobs and closes.
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { dirname } from 'node:path';
import type { DaemonConfig, ListenAddress } from './config.ts';
import type { ImageService } from './images/image-service.ts';
import { createLogger, type Logger } from './log.ts';
import { buildServer } from './server/app.ts';
import type { StreamLimits } from './server/message-writer.ts';

export interface StartDaemonOptions {
  imageService: ImageService;
  /** Defaults to a pino logger on stdout at `config.logLevel`. */
  logger?: Logger;
  /** How long close() lets aborted streams finish before cutting connections (default 5 s). */
  shutdownGraceMs?: number;
  streamLimits?: StreamLimits;
}

export interface RunningDaemon {
  /** Where it listens; tcp entries carry the bound port (useful with port 0). */
  sockets: ListenAddress[];
  /** Stops accepting, aborts pulls, pushes and event streams, then closes every connection. Idempotent. */
  close(): Promise<void>;
}

export class DaemonStartError extends Error {
  override readonly name = 'DaemonStartError';
}

export async function startDaemon(config: DaemonConfig, options: StartDaemonOptions): Promise<RunningDaemon> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const { app, streams } = await buildServer({
    service: options.imageService,
    config,
    logger,
    streamLimits: options.streamLimits,
  });
  const servers: Server[] = [];
  const sockets: ListenAddress[] = [];
  let closing: Promise<void> | undefined;

  const close = () => {
    closing ??= (async () => {
      const closed = Promise.all(
        servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      );
      streams.abortAll(new Error('the daemon is shutting down'));
      const grace = setTimeout(() => {
        for (const s of servers) s.closeAllConnections();
      }, options.shutdownGraceMs ?? 5000);
      // Aborted streams end their responses; then their keep-alive connections are idle and can be closed.
      await streams.drained();
      for (const s of servers) s.closeIdleConnections();
      await closed;
      clearTimeout(grace);
      await app.close();
      logger.info('daemon stopped');
    })();
    return closing;
  };

  try {
    for (const address of config.hosts) {
      const server = createServer(app.routing);
      servers.push(server);
      sockets.push(await listen(server, address));
      logger.info({ address: describeAddress(sockets.at(-1)!) }, 'API listening');
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { sockets, close };
}

export function describeAddress(address: ListenAddress): string {
  return address.kind === 'unix' ? `unix://${address.path}` : `tcp://${address.host}:${address.port}`;
}

async function listen(server: Server, address: ListenAddress): Promise<ListenAddress> {
  if (address.kind === 'tcp') {
    // The API carries registry credentials in clear: never off the machine, whoever built the config.
    if (!['127.0.0.1', '::1', 'localhost'].includes(address.host)) {
      throw new DaemonStartError(
        `refusing to listen on tcp://${address.host}:${address.port}: not a loopback address`,
      );
    }
    await listenOn(server, { host: address.host, port: address.port });
    return { ...address, port: (server.address() as AddressInfo).port };
  }
  await mkdir(dirname(address.path), { recursive: true, mode: 0o700 });
  await removeStaleSocket(address.path);
  await listenOn(server, { path: address.path });
  // Owner and group only, as dockerd's socket: the API hands out registry credentials.
  await chmod(address.path, 0o660);
  return address;
}

function listenOn(server: Server, options: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A socket file nobody answers on is left over from a crash: remove it. One that answers belongs to a live daemon. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new DaemonStartError(`${path} exists and is not a socket; refusing to replace it`);
  if (await answers(path)) {
    throw new DaemonStartError(`another daemon is already listening on unix://${path}`);
  }
  await unlink(path);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(err);
    });
  });
}

/** SIGTERM / SIGINT close the daemon once, then run `after` (e.g. closing the image service). */
export function closeOnSignals(daemon: RunningDaemon, after: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    daemon
      .close()
      .then(after)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
