// Where the SDK reaches a registry for browsing: the network host of a registry name (Docker Hub's `docker.io`
// lives on registry-1.docker.io) and its origin, plain HTTP for loopback hosts and HTTPS for every other one,
// the rule the daemon applies (protocol/loopback.ts).

import { isLoopbackHost, registryHostOf } from '../../protocol/index.ts';
import { registryHostKey } from '../../protocol/registry-host.ts';
import { RegistryBrowseError } from './errors.ts';

export interface RegistryOrigin {
  /** `host[:port]` as challenge handlers and stores see it. */
  host: string;
  /** `https://host[:port]`, or `http://…` for a loopback registry. */
  origin: string;
}

/** Accepts `host[:port]`, `docker.io` or a URL such as `https://index.docker.io/v1/`. */
export function registryOrigin(registry: string): RegistryOrigin {
  const host = registryHostOf(registryHostKey(registry));
  const origin = `${isLoopbackHost(host) ? 'http' : 'https'}://${host}`;
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  if (host === '' || parsed?.host !== host) {
    throw new RegistryBrowseError(registry, undefined, `"${registry}" is not a registry host[:port]`);
  }
  return { host, origin };
}
