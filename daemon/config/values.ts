// Parsers for each daemon setting, shared by the flags and the config file; `source` names the flag or key in errors.
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { ConfigError } from './errors.ts';

export type ListenAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** `unix:///path` or `tcp://127.0.0.1:PORT`; tcp is refused off loopback because the API carries credentials unencrypted. */
export function parseListenAddress(value: string, source: string, defaultSocket: string): ListenAddress {
  if (value.startsWith('unix://')) {
    const path = value.slice('unix://'.length);
    return { kind: 'unix', path: path === '' ? defaultSocket : resolve(path) };
  }
  if (value.startsWith('tcp://')) {
    const rest = value.slice('tcp://'.length).replace(/\/$/, '');
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(rest);
    if (!m) throw new ConfigError(source, `"${value}" must be tcp://HOST:PORT`);
    const host = m[1]!;
    const port = Number(m[2]);
    if (port > 65535) throw new ConfigError(source, `"${value}" has a port above 65535`);
    if (!LOOPBACK_HOSTS.has(host)) {
      throw new ConfigError(
        source,
        `"${value}" is not a loopback address; tcp is only allowed on 127.0.0.1, ::1 or localhost`,
      );
    }
    return { kind: 'tcp', host: host.replace(/^\[|\]$/g, ''), port };
  }
  throw new ConfigError(source, `"${value}" must start with unix:// or tcp://`);
}

/** `host[:port]` or a CIDR, as dockerd's --insecure-registry; a scheme is refused as dockerd does. */
export function parseInsecureRegistry(value: string, source: string): string {
  const v = value.trim();
  if (v.includes('://'))
    throw new ConfigError(source, `insecure registry "${value}" should not contain '://'`);
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(v);
  if (cidr) {
    const version = isIP(cidr[1]!);
    const bits = Number(cidr[2]);
    if (version === 0 || bits > (version === 4 ? 32 : 128)) {
      throw new ConfigError(source, `"${value}" is not a valid CIDR`);
    }
    return v;
  }
  if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(v)) {
    throw new ConfigError(source, `"${value}" must be HOST[:PORT] or a CIDR`);
  }
  return v;
}

/** A mirror base URL, normalised as dockerd's ValidateMirror does (scheme://host/), refusing paths and credentials. */
export function parseMirrorUrl(value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(source, `mirror "${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(source, `mirror "${value}" must use http or https`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(source, `mirror "${value}" must not contain credentials`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new ConfigError(source, `mirror "${value}" must not have a path, query or fragment`);
  }
  return `${url.protocol}//${url.host}/`;
}

export function parsePositiveInt(value: unknown, source: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new ConfigError(source, `"${String(value)}" must be a positive integer`);
  }
  return n;
}

export function parseNonNegativeInt(value: unknown, source: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new ConfigError(source, `"${String(value)}" must be a non-negative integer`);
  }
  return n;
}

export function parseLogLevel(value: string, source: string): LogLevel {
  const v = value.trim().toLowerCase();
  const level = v === 'warning' ? 'warn' : v;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(source, `"${value}" must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return level as LogLevel;
}

export function parseRegistryHost(value: string, source: string): string {
  if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(value)) {
    throw new ConfigError(source, `"${value}" must be a registry HOST[:PORT]`);
  }
  return value.toLowerCase();
}
