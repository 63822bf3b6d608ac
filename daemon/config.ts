// The daemon's configuration: defaults, then the --config file, then flags (flags win, key by key).
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from './config/errors.ts';
import { loadConfigFile } from './config/file.ts';
import { DAEMON_USAGE, parseDaemonFlags } from './config/flags.ts';
import type { DaemonSettings, SettingsContext } from './config/settings.ts';
import type { ListenAddress, LogLevel } from './config/values.ts';
import { DEFAULT_LIMITS } from './distribution/transport/transport.ts';

export type { ListenAddress, LogLevel };
export { ConfigError, DAEMON_USAGE };

/** Docker Hub's key in `registryMirrors`, filled by --registry-mirror. */
export const DOCKER_HUB = 'docker.io';

export interface DaemonConfig {
  hosts: ListenAddress[];
  dataRoot: string;
  /** HOST[:PORT] or CIDR entries allowed over plain HTTP, besides loopback which always is. */
  insecureRegistries: string[];
  /** Mirror base URLs per registry host[:port]; Docker Hub's (from --registry-mirror) under `docker.io`. */
  registryMirrors: Record<string, string[]>;
  maxConcurrentDownloads: number;
  logLevel: LogLevel;
  /** Docker's certs.d layout: <dir>/<host:port>/*.crt are CA certificates trusted for that registry. */
  certsDir: string;
  /** Seconds a challenge put in a stream (authChannel) waits for the client's answer. */
  authChallengeTimeout: number;
  /** Registry access limits (README, "Registry limits"). */
  registryRetries: number;
  /** Seconds. */
  registryTimeout: number;
  /** Seconds. */
  registryIdleTimeout: number;
  /** Bytes per second; 0 for none. */
  registryMinRate: number;
}

export type DaemonArgs = { help: true } | { help: false; config: DaemonConfig };

export interface ConfigEnvironment {
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
}

function currentEnvironment(): ConfigEnvironment {
  return { env: process.env, cwd: process.cwd(), home: homedir() };
}

export function defaultSocketPath(e: ConfigEnvironment): string {
  const runtime = e.env['XDG_RUNTIME_DIR'];
  return runtime ? join(runtime, 'dockhand.sock') : resolve(e.cwd, '.dockhand', 'dockhand.sock');
}

export function defaultDataRoot(e: ConfigEnvironment): string {
  const data = e.env['XDG_DATA_HOME'];
  return data ? join(data, 'dockhand') : join(e.home, '.local', 'share', 'dockhand');
}

/** Where dockerd reads registry CA files, so a machine set up for docker works unchanged. */
export const DEFAULT_CERTS_DIR = '/etc/docker/certs.d';

/** Parses `dockhand daemon` arguments (reading --config FILE if given); throws ConfigError naming the flag or key. */
export async function parseDaemonArgs(
  argv: string[],
  environment: ConfigEnvironment = currentEnvironment(),
): Promise<DaemonArgs> {
  const ctx: SettingsContext = { defaultSocket: defaultSocketPath(environment), cwd: environment.cwd };
  const flags = parseDaemonFlags(argv, ctx);
  if (flags.help) return { help: true };
  const file = flags.configFile === undefined ? {} : await loadConfigFile(flags.configFile, ctx);
  return { help: false, config: resolveDaemonConfig(file, flags.settings, environment) };
}

export function resolveDaemonConfig(
  file: DaemonSettings,
  flags: DaemonSettings,
  environment: ConfigEnvironment = currentEnvironment(),
): DaemonConfig {
  const registryMirrors: Record<string, string[]> = { ...file.registryMirrors };
  const hubMirrors = flags.hubMirrors ?? file.hubMirrors;
  if (hubMirrors) registryMirrors[DOCKER_HUB] = hubMirrors;
  return {
    hosts: flags.hosts ?? file.hosts ?? [{ kind: 'unix', path: defaultSocketPath(environment) }],
    dataRoot: flags.dataRoot ?? file.dataRoot ?? defaultDataRoot(environment),
    insecureRegistries: flags.insecureRegistries ?? file.insecureRegistries ?? [],
    registryMirrors,
    maxConcurrentDownloads: flags.maxConcurrentDownloads ?? file.maxConcurrentDownloads ?? 3,
    logLevel: flags.logLevel ?? file.logLevel ?? 'info',
    certsDir: flags.certsDir ?? file.certsDir ?? DEFAULT_CERTS_DIR,
    authChallengeTimeout: flags.authChallengeTimeout ?? file.authChallengeTimeout ?? 60,
    registryRetries: flags.registryRetries ?? file.registryRetries ?? DEFAULT_LIMITS.retry.maxRetries,
    registryTimeout: flags.registryTimeout ?? file.registryTimeout ?? DEFAULT_LIMITS.requestTimeoutMs / 1000,
    registryIdleTimeout:
      flags.registryIdleTimeout ?? file.registryIdleTimeout ?? DEFAULT_LIMITS.idleTimeoutMs / 1000,
    registryMinRate:
      flags.registryMinRate ?? file.registryMinRate ?? DEFAULT_LIMITS.transferRate.minBytesPerSecond,
  };
}
