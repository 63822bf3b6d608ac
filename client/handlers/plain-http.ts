// Which registries are spoken to over plain http: loopback ones by default (as the daemon treats them), and
// those the caller lists. Their token realms may be http too, and login reaches them with http.

import { isIP } from 'node:net';

export function isPlainHttpRegistry(host: string, insecureRegistries: readonly string[]): boolean {
  if (insecureRegistries.includes(host)) return true;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return false;
  }
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (isIP(hostname) === 4) return hostname.startsWith('127.');
  return hostname === '::1';
}
