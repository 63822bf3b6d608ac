// The key every credential and token store uses for a registry, and the host an X-Registry-Auth `serveraddress`
// names: `host[:port]` in lower case, with Docker Hub's aliases as `docker.io`. The one normalizer of both sides.

/** A URL's hostname as net.connect and address checks take it: an IPv6 literal without its brackets. */
export function bareHostname(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Accepts `host[:port]`, a URL (`https://index.docker.io/v1/`) or a legacy config key, and returns the store key. */
export function registryHostKey(value: string): string {
  let host = value.trim();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = host.indexOf('/');
  if (slash !== -1) host = host.slice(0, slash);
  host = host.toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? 'docker.io' : host;
}
