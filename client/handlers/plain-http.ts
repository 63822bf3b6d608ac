// Which registries are spoken to over plain http: loopback ones by default (the daemon's rule, shared through
// protocol/), and those the caller lists. Their token realms may be http too, and login reaches them with http.

import { isLoopbackHost } from '../../protocol/index.ts';

export function isPlainHttpRegistry(host: string, insecureRegistries: readonly string[]): boolean {
  return insecureRegistries.includes(host) || isLoopbackHost(host);
}
