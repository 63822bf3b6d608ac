// A real Distribution registry (Debian's docker-registry 2.8.2) on a free loopback port, with filesystem storage in
// a temp dir, in one of three auth modes and optionally as a pull-through cache.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { freePort } from './ports.ts';
import { spawnTracked, trackService, trackTempDir } from './processes.ts';

/** What a registry needs from a token server (a TokenServer satisfies it). */
export interface TokenIssuerRef {
  realm: string;
  service: string;
  issuer: string;
  certBundlePath: string;
}

export type RegistryAuth =
  | { auth: 'none' }
  | { auth: 'htpasswd'; users: Record<string, string> }
  | {
      auth: 'token';
      tokenServer: TokenIssuerRef /** Override the realm advertised in challenges. */;
      realm?: string;
    };

export type RegistryOptions = RegistryAuth & {
  /** Pull-through cache of another registry. */
  proxy?: { remoteurl: string; username?: string; password?: string };
  /** Milliseconds to wait for GET /v2/ to answer. Default 15000. */
  readyTimeoutMs?: number;
  /** IPv4 address to listen on. Default 127.0.0.1 (a client treats loopback as plain HTTP, anything else as TLS). */
  address?: string;
  /** Serve HTTPS with this certificate; `caPem` is what the readiness check trusts. */
  tls?: { certPath: string; keyPath: string; caPem: string };
};

export interface Registry {
  /** ADDRESS:PORT (127.0.0.1 unless `address` was given), what goes in an image reference. */
  host: string;
  /** http://ADDRESS:PORT, or https:// with `tls`. */
  url: string;
  port: number;
  pid: number;
  /** Temp dir holding config.yml, htpasswd and storage/. Removed by stop(). */
  dataDir: string;
  /** The registry's combined stdout+stderr (access log and app log), last MiB. */
  logs(): string;
  stop(): Promise<void>;
}

const LOG_LIMIT = 1 << 20;
export const HTPASSWD_REALM = 'basic-realm';

export async function startRegistry(options: RegistryOptions): Promise<Registry> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dockhand-rig-registry-'));
  const untrackDir = trackTempDir(dataDir);
  try {
    return await launch(options, dataDir, untrackDir);
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    untrackDir();
    throw error;
  }
}

async function launch(options: RegistryOptions, dataDir: string, untrackDir: () => void): Promise<Registry> {
  const port = await freePort();
  const address = options.address ?? '127.0.0.1';
  const storage = join(dataDir, 'storage');
  await mkdir(storage);
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'info', formatter: 'text', fields: { service: 'registry' } },
    storage: {
      filesystem: { rootdirectory: storage },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: `${address}:${port}`,
      secret: randomBytes(16).toString('hex'),
      headers: { 'X-Content-Type-Options': ['nosniff'] },
      ...(options.tls ? { tls: { certificate: options.tls.certPath, key: options.tls.keyPath } } : {}),
    },
  };
  if (options.auth === 'htpasswd') {
    const path = join(dataDir, 'htpasswd');
    // Cost 4 (Go's minimum): the registry checks bcrypt on every request, so a high cost would slow every test.
    const lines = Object.entries(options.users).map(([user, pass]) => `${user}:${bcrypt.hashSync(pass, 4)}`);
    await writeFile(path, `${lines.join('\n')}\n`);
    config['auth'] = { htpasswd: { realm: HTPASSWD_REALM, path } };
  } else if (options.auth === 'token') {
    const { tokenServer } = options;
    config['auth'] = {
      token: {
        realm: options.realm ?? tokenServer.realm,
        service: tokenServer.service,
        issuer: tokenServer.issuer,
        rootcertbundle: tokenServer.certBundlePath,
      },
    };
  }
  if (options.proxy) config['proxy'] = options.proxy;
  const configPath = join(dataDir, 'config.yml');
  await writeFile(configPath, stringify(config));

  const { proc, logs } = await spawnTracked(
    `docker-registry:${port}`,
    'docker-registry',
    ['serve', configPath],
    LOG_LIMIT,
  );

  const url = `${options.tls ? 'https' : 'http'}://${address}:${port}`;
  const stop = trackService(async () => {
    await proc.stop();
    await rm(dataDir, { recursive: true, force: true });
    untrackDir();
  });
  try {
    await waitReady(url, options.tls?.caPem, proc.exited, options.readyTimeoutMs ?? 15_000);
  } catch (error) {
    await stop();
    throw new Error(`registry on port ${port} did not start: ${(error as Error).message}\n${logs()}`);
  }
  return { host: `${address}:${port}`, url, port, pid: proc.pid, dataDir, logs, stop };
}

async function waitReady(
  url: string,
  caPem: string | undefined,
  exited: Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const dispatcher = caPem ? new Agent({ connect: { ca: caPem } }) : undefined;
  try {
    await pollReady(url, dispatcher, exited, timeoutMs);
  } finally {
    await dispatcher?.close();
  }
}

async function pollReady(
  url: string,
  dispatcher: Agent | undefined,
  exited: Promise<void>,
  timeoutMs: number,
): Promise<void> {
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (dead) throw new Error('process exited');
    try {
      const response = await request(`${url}/v2/`, {
        signal: AbortSignal.timeout(1000),
        ...(dispatcher ? { dispatcher } : {}),
      });
      await response.body.dump();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  throw new Error(`no answer on ${url}/v2/ within ${timeoutMs} ms`);
}
