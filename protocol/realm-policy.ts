// Where a registry may send us for a token. The realm comes from the registry's 401, and the client answers
// it with credentials, so a hostile or compromised registry could point it at internal services
// (169.254.169.254, an admin port on 127.0.0.1) or downgrade it to http. Rules, after oras-go v2.6.2
// (GHSA-28r5-37g7-p6mp) and go-containerregistry#2243/#2302/#2284:
//
//   - https, or http only when the registry itself is plain http;
//   - no embedded user:password in the realm;
//   - an IP-literal host that is loopback, link-local, private or unspecified (and the name `localhost`) is
//     refused, unless it is the registry's own host (same address, any port), or both are loopback: a local
//     registry often runs its token server on another local port.
//
// checkRealm judges the realm as written, before any lookup. A realm (or redirect target) given by DNS name is held
// to the same classes where the connection is made (address-guard.ts): its name is resolved once, each address is
// checked with connectRefusal, and the socket goes only to an allowed one, so a name that resolves to
// 169.254.169.254, at once or only on a second lookup (DNS rebinding), gets no request (the gap
// go-containerregistry#2440 leaves open). The registry's own name is exempt, as the registry itself is reached
// wherever that name points.
import { BlockList, isIP } from 'node:net';
import { RealmRefusedError } from './errors.ts';
import { bareHostname } from './registry-host.ts';

export interface RegistryEndpoint {
  /** `host[:port]` as in the reference domain (IPv6 in brackets). */
  host: string;
  /** False when the registry is spoken to over plain http. */
  secure: boolean;
}

export type AddressClass = 'loopback' | 'link-local' | 'private' | 'unspecified';

function blockList(ranges: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

const CLASSES: [AddressClass, BlockList][] = [
  [
    'loopback',
    blockList([
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ]),
  ],
  [
    'link-local',
    blockList([
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ]),
  ],
  [
    'private',
    blockList([
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
    ]),
  ],
  [
    'unspecified',
    blockList([
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ]),
  ],
];

const WHY: Record<AddressClass, string> = {
  loopback: 'a loopback address',
  'link-local': 'a link-local address (this range holds cloud metadata services)',
  private: 'a private-network address',
  unspecified: 'an unspecified address',
};

/** The hostname without IPv6 brackets, lower-cased. */
function bareHost(hostname: string): string {
  return bareHostname(hostname).toLowerCase();
}

// ::ffff:a.b.c.d reaches the IPv4 host, so it is classified as that host. WHATWG URL writes it in hex.
function unmapIPv4(address: string): string {
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
  if (hex) {
    const high = Number.parseInt(hex[1]!, 16);
    const low = Number.parseInt(hex[2]!, 16);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  return dotted ? dotted[1]! : address;
}

/** Which restricted class an address belongs to, if any. `localhost` names count as loopback. */
function classify(host: string): { address: string; class: AddressClass | undefined } {
  if (host === 'localhost' || host.endsWith('.localhost')) return { address: host, class: 'loopback' };
  const address = unmapIPv4(host);
  const family = isIP(address);
  if (family === 0) return { address, class: undefined };
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const match = CLASSES.find(([, list]) => list.check(address, type));
  return { address, class: match?.[0] };
}

function registryHostname(host: string): string {
  try {
    return bareHost(new URL(`http://${host}`).hostname);
  } catch {
    return bareHost(host);
  }
}

// The realm as shown in errors: origin and path, never a query or userinfo.
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** The refusal of a realm, naming the realm (origin and path only) and why. */
export function realmRefused(url: URL, reason: string, why: string): RealmRefusedError {
  return new RealmRefusedError(shown(url), reason, `token realm ${shown(url)} refused: ${why}`);
}

/** Validates a challenge's realm for a registry; returns it as a URL or throws RealmRefusedError. */
export function checkRealm(realm: string, registry: RegistryEndpoint): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new RealmRefusedError(realm.slice(0, 200), 'invalid-url', 'token realm is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw realmRefused(url, 'scheme', 'only https is allowed');
  }
  if (url.protocol === 'http:' && registry.secure) {
    throw realmRefused(url, 'insecure', 'plain http is allowed only for a plain-http registry');
  }
  if (url.username !== '' || url.password !== '') {
    throw realmRefused(url, 'userinfo', 'it embeds credentials');
  }
  const refusal = addressRefusal(url.hostname, registry.host);
  if (refusal === undefined) return url;
  throw realmRefused(url, refusal.class, refusal.message);
}

/**
 * Why a host (a name or an address a name resolved to) may not be contacted on a registry's say-so: the same
 * address classes as a realm (redirect targets are held to them too), with the same exceptions (the registry's own
 * address, or both on loopback). Undefined when it may.
 */
export function addressRefusal(
  hostname: string,
  registryHost: string,
): { class: AddressClass; message: string } | undefined {
  const target = classify(bareHost(hostname));
  if (target.class === undefined) return undefined;
  const registry = classify(registryHostname(registryHost));
  const sameHost = target.address === registry.address;
  const bothLoopback = target.class === 'loopback' && registry.class === 'loopback';
  if (sameHost || bothLoopback) return undefined;
  return {
    class: target.class,
    message: `${bareHost(hostname)} is ${WHY[target.class]} and not the registry host ${registryHost}`,
  };
}

/**
 * Why a connection to `address`, which `hostname` resolved to, may not be made on a registry's say-so: addressRefusal
 * of the address. The registry's own name is exempt: the registry itself is reached at whatever that name resolves
 * to, and a private registry's token server often shares its name.
 */
export function connectRefusal(
  hostname: string,
  address: string,
  registryHost: string,
): { class: AddressClass; message: string } | undefined {
  if (bareHost(hostname) === registryHostname(registryHost)) return undefined;
  return addressRefusal(address, registryHost);
}
