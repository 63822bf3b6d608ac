// Where the daemon listens: an explicit socket path or host, else DOCKER_HOST, else the daemon's own default.

import path from 'node:path';
import { DaemonAddressError } from './errors.ts';

export type DaemonAddress = { kind: 'unix'; socketPath: string } | { kind: 'tcp'; origin: string };

export interface DaemonAddressOptions {
  /** A unix socket path; wins over everything else. */
  socketPath?: string;
  /** `unix:///path` or `tcp://host:port`, as DOCKER_HOST is written. */
  host?: string;
  env?: NodeJS.ProcessEnv;
  /** Base of the relative default `./.dockhand/dockhand.sock`. */
  cwd?: string;
}

export function resolveDaemonAddress(options: DaemonAddressOptions = {}): DaemonAddress {
  const env = options.env ?? process.env;
  if (options.socketPath) return { kind: 'unix', socketPath: options.socketPath };
  const host = options.host ?? env['DOCKER_HOST'];
  if (host) return parseDaemonHost(host);
  // The same default the daemon binds (`dockhand daemon` without -H).
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (runtimeDir) return { kind: 'unix', socketPath: path.join(runtimeDir, 'dockhand.sock') };
  return {
    kind: 'unix',
    socketPath: path.resolve(options.cwd ?? process.cwd(), '.dockhand', 'dockhand.sock'),
  };
}

/** Reads a DOCKER_HOST-style value; names the reason when it is a form this SDK does not speak. */
export function parseDaemonHost(value: string): DaemonAddress {
  const trimmed = value.trim();
  if (trimmed.startsWith('unix://')) {
    const socketPath = trimmed.slice('unix://'.length);
    if (socketPath === '') throw new DaemonAddressError(`invalid daemon host "${value}": empty socket path`);
    return { kind: 'unix', socketPath };
  }
  if (trimmed.startsWith('tcp://') || trimmed.startsWith('http://')) {
    let url: URL;
    try {
      url = new URL(trimmed.replace(/^tcp:/, 'http:'));
    } catch {
      throw new DaemonAddressError(`invalid daemon host "${value}": not a host:port`);
    }
    if (url.port === '') throw new DaemonAddressError(`invalid daemon host "${value}": a port is required`);
    return { kind: 'tcp', origin: `http://${url.host}` };
  }
  const scheme = /^([a-z0-9+.-]+):\/\//i.exec(trimmed)?.[1];
  throw new DaemonAddressError(
    scheme
      ? `unsupported daemon host scheme "${scheme}" in "${value}": use unix:// or tcp://`
      : `invalid daemon host "${value}": expected unix:///path or tcp://host:port`,
  );
}
