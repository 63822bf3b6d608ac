// A throwaway CA and a server certificate it signed for one IP address, made with the openssl CLI (node cannot
// create X.509 certificates): what a registry behind a private CA looks like to a client.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ServerCertificate {
  /** PEM of the CA, for the client's trust (certs.d/<host:port>/ca.crt). */
  caPem: string;
  certPath: string;
  keyPath: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256'];

/** Writes ca.crt, server.crt and server.key under `dir`; the server certificate names `ip` as its only SAN. */
export async function createServerCertificate(dir: string, ip: string): Promise<ServerCertificate> {
  const path = (name: string) => join(dir, name);
  await execFileAsync('openssl', [
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '2',
    '-subj',
    '/CN=dockhand rig test CA',
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.crt'),
  ]);
  await execFileAsync('openssl', [
    'req',
    ...EC_KEY,
    '-subj',
    `/CN=${ip}`,
    '-keyout',
    path('server.key'),
    '-out',
    path('server.csr'),
  ]);
  await writeFile(path('san.ext'), `subjectAltName=IP:${ip}\n`);
  await execFileAsync('openssl', [
    'x509',
    '-req',
    '-sha256',
    '-days',
    '2',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.crt'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-extfile',
    path('san.ext'),
    '-out',
    path('server.crt'),
  ]);
  return {
    caPem: await readFile(path('ca.crt'), 'utf8'),
    certPath: path('server.crt'),
    keyPath: path('server.key'),
  };
}

/**
 * This machine's first non-loopback IPv4 address: where a registry listens when it must not be on loopback (a client
 * treats loopback as plain HTTP). Traffic to it stays on the machine.
 */
export function lanAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && !a.internal)?.address;
  if (!address)
    throw new Error('these tests need a non-loopback IPv4 address on this machine; none was found');
  return address;
}
