// Loopback registries: plain HTTP without being listed as insecure, as dockerd treats 127.0.0.0/8 and ::1 by
// default, and `localhost` names (RFC 6761 keeps them on this machine). The daemon and the SDK share this rule.
import { isIP } from 'node:net';

/** The host of `host[:port]` without its port; IPv6 literals lose their brackets. */
export function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host.slice(1) : host.slice(1, end);
  }
  const colon = host.lastIndexOf(':');
  // Two or more colons without brackets: a bare IPv6 literal, which has no port.
  if (colon === -1 || host.indexOf(':') !== colon) return host;
  return host.slice(0, colon);
}

/** Whether `host[:port]` names this machine: 127.0.0.0/8, ::1, `localhost` or a `*.localhost` name. */
export function isLoopbackHost(host: string): boolean {
  const name = hostName(host).toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return isIP(name) === 6 && name === '::1';
}
