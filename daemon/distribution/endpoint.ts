// Where a registry host is reached: scheme and TLS trust. Plain HTTP is allowed, as dockerd allows it, for loopback,
// for hosts named by --insecure-registry, and for hosts whose address is in one of its CIDRs; HTTPS trusts the
// system's CAs plus the CA files Docker reads from certs.d/<host:port>/.

import { lookup } from 'node:dns/promises';
import { readdir, readFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import { hostName, isLoopbackHost, registryHostOf } from '../../protocol/index.ts';

export interface Endpoint {
  /** host[:port] as used in references and credentials. */
  host: string;
  /** The origin requests go to, e.g. http://127.0.0.1:5000. */
  origin: string;
  secure: boolean;
  /** PEM CA certificates to trust for this host, beyond the system store. */
  ca?: string[];
}

export interface EndpointOptions {
  /** HOST[:PORT] entries and CIDRs, as --insecure-registry takes them. */
  insecureRegistries: string[];
  /** Directory holding <host:port>/ca.crt files (Docker's /etc/docker/certs.d layout). */
  certsDir?: string;
}

export async function resolveEndpoint(domain: string, options: EndpointOptions): Promise<Endpoint> {
  const host = registryHostOf(domain);
  const insecure =
    isLoopbackHost(host) ||
    options.insecureRegistries.includes(host) ||
    (await inInsecureCidr(hostName(host), options.insecureRegistries));
  if (insecure) return { host, origin: `http://${host}`, secure: false };
  const ca = options.certsDir ? await readCaFiles(options.certsDir, host) : undefined;
  return { host, origin: `https://${host}`, secure: true, ...(ca && ca.length > 0 ? { ca } : {}) };
}

/** dockerd's rule: a name is resolved and matched by address; a failed lookup means "not insecure". */
async function inInsecureCidr(name: string, entries: string[]): Promise<boolean> {
  const cidrs = new BlockList();
  let any = false;
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    if (slash === -1) continue;
    const address = entry.slice(0, slash);
    cidrs.addSubnet(address, Number(entry.slice(slash + 1)), isIP(address) === 6 ? 'ipv6' : 'ipv4');
    any = true;
  }
  if (!any) return false;
  const addresses =
    isIP(name) !== 0
      ? [{ address: name, family: isIP(name) }]
      : await lookup(name, { all: true }).catch(() => []);
  return addresses.some((a) => cidrs.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4'));
}

/** The PEM CAs in certs.d/<host:port>/*.crt (none when the folder is absent). */
export async function readCaFiles(certsDir: string, host: string): Promise<string[]> {
  const dir = join(certsDir, host);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const crts = names.filter((n) => n.endsWith('.crt')).sort();
  return Promise.all(crts.map((n) => readFile(join(dir, n), 'utf8')));
}

/** The endpoint a URL belongs to: the request's own, or (a redirect target) its origin with no CA of its own. */
export function endpointOf(endpoint: Endpoint, url: URL): Endpoint {
  if (url.origin === endpoint.origin) return endpoint;
  return { host: url.host, origin: url.origin, secure: url.protocol === 'https:' };
}
