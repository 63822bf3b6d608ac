// Starts a real Dockhand daemon (engine + API server) on a unix socket in a temp dir, with its logs captured so
// tests can assert on them (and on the absence of secrets in them).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { DaemonConfig } from '../../daemon/config.ts';
import type { RetryPolicy } from '../../daemon/distribution/transport/retry.ts';
import type { TransportLimits } from '../../daemon/distribution/transport/transport.ts';
import { type ClosableImageService, createImageService } from '../../daemon/images/index.ts';
import { createLogger } from '../../daemon/log.ts';
import { startDaemon } from '../../daemon/main.ts';

export interface TestDaemon {
  socket: string;
  dataRoot: string;
  dir: string;
  service: ClosableImageService;
  logs(): string;
  /** Stops the daemon but keeps the data root (for restart tests). */
  stop(): Promise<void>;
  /** Stops and deletes everything. */
  close(): Promise<void>;
}

export interface TestDaemonOptions {
  dir?: string;
  registryMirrors?: Record<string, string[]>;
  insecureRegistries?: string[];
  maxConcurrentDownloads?: number;
  retry?: RetryPolicy;
  /** Docker's certs.d layout; default: an empty folder in the daemon's dir. */
  certsDir?: string;
  /** Seconds a challenge put in a stream waits for its answer (default 60). */
  authChallengeTimeout?: number;
  /** Registry access limits in milliseconds (retries, deadlines, minimum rate), over the defaults. */
  limits?: Partial<TransportLimits>;
}

export const FAST_RETRY: RetryPolicy = { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 200 };

export async function startTestDaemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'dockhand-daemon-')));
  const socket = join(dir, 'dockhand.sock');
  const dataRoot = join(dir, 'data');
  const config: DaemonConfig = {
    hosts: [{ kind: 'unix', path: socket }],
    dataRoot,
    insecureRegistries: options.insecureRegistries ?? [],
    registryMirrors: options.registryMirrors ?? {},
    maxConcurrentDownloads: options.maxConcurrentDownloads ?? 3,
    logLevel: 'debug',
    certsDir: options.certsDir ?? join(dir, 'certs.d'),
    authChallengeTimeout: options.authChallengeTimeout ?? 60,
    registryRetries: 4,
    registryTimeout: 120,
    registryIdleTimeout: 30,
    registryMinRate: 1024,
  };
  let logText = '';
  const destination = new Writable({
    write(chunk, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  const service = await createImageService(config, {
    retry: options.limits?.retry ?? options.retry ?? FAST_RETRY,
    ...(options.limits ? { limits: options.limits } : {}),
    certsDir: config.certsDir,
  });
  const daemon = await startDaemon(config, {
    imageService: service,
    logger: createLogger({ level: 'debug', destination }),
    shutdownGraceMs: 500,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await daemon.close();
    await service.close();
  };
  return {
    socket,
    dataRoot,
    dir,
    service,
    logs: () => logText,
    stop,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
