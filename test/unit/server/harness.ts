// Starts the real daemon (startDaemon) on a unix socket in a fresh temp dir, with the fake engine.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { DaemonConfig } from '../../../daemon/config.ts';
import { createLogger } from '../../../daemon/log.ts';
import { type RunningDaemon, startDaemon } from '../../../daemon/main.ts';
import type { StreamLimits } from '../../../daemon/server/message-writer.ts';
import { FakeImageService } from './fake-image-service.ts';

export interface ServerHarness {
  socket: string;
  dir: string;
  service: FakeImageService;
  daemon: RunningDaemon;
  /** Every log line written so far (the daemon logs at `logLevel`, default trace). */
  logs: string[];
  close(): Promise<void>;
}

/** A logger that drops everything (for servers built outside startServerHarness). */
export function quietLogger() {
  return createLogger({
    level: 'fatal',
    destination: new Writable({
      write(_chunk, _enc, done) {
        done();
      },
    }),
  });
}

export function testConfig(dir: string, overrides: Partial<DaemonConfig> = {}): DaemonConfig {
  return {
    hosts: [{ kind: 'unix', path: join(dir, 'dockhand.sock') }],
    dataRoot: join(dir, 'data'),
    insecureRegistries: [],
    registryMirrors: {},
    maxConcurrentDownloads: 3,
    logLevel: 'trace',
    certsDir: join(dir, 'certs.d'),
    authChallengeTimeout: 60,
    registryRetries: 4,
    registryTimeout: 120,
    registryIdleTimeout: 30,
    registryMinRate: 1024,
    ...overrides,
  };
}

export async function startServerHarness(
  options: { service?: FakeImageService; config?: Partial<DaemonConfig>; streamLimits?: StreamLimits } = {},
): Promise<ServerHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'dh-srv-'));
  const service = options.service ?? new FakeImageService();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  const config = testConfig(dir, options.config);
  const logger = createLogger({ level: config.logLevel, destination: sink });
  const daemon = await startDaemon(config, {
    imageService: service,
    logger,
    shutdownGraceMs: 1000,
    streamLimits: options.streamLimits,
  });
  const first = daemon.sockets[0];
  if (first?.kind !== 'unix') throw new Error('the test daemon listens on a unix socket first');
  return {
    socket: first.path,
    dir,
    service,
    daemon,
    logs,
    async close() {
      await daemon.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
