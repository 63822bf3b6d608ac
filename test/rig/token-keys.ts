// Signing material for the rig token server: a key and a self-signed certificate made with the openssl CLI
// (node cannot create X.509 certificates). The registry trusts the certificate through its `rootcertbundle`.
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export type SigningAlg = 'ES256' | 'RS256';

export interface SigningMaterial {
  alg: SigningAlg;
  privateKey: KeyObject;
  certPem: string;
  certPath: string;
  /** Std-base64 DER of the certificate, as the JWS `x5c` header wants it. */
  x5c: string;
  /** libtrust key ID of the public key, the form registry 2.8 accepts in the JWS `kid` header. */
  libtrustKid: string;
}

/** Writes `<dir>/token.key` and `<dir>/token.crt` and loads them. */
export async function createSigningMaterial(
  dir: string,
  alg: SigningAlg,
  subject: string,
): Promise<SigningMaterial> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  const keyArgs =
    alg === 'ES256' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  await execFileAsync('openssl', [
    'req',
    '-x509',
    ...keyArgs,
    '-nodes',
    '-sha256',
    '-days',
    '3650',
    '-subj',
    `/CN=${subject}`,
    '-keyout',
    keyPath,
    '-out',
    certPath,
  ]);
  const [keyPem, certPem] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
  const cert = new X509Certificate(certPem);
  return {
    alg,
    privateKey: createPrivateKey(keyPem),
    certPem,
    certPath,
    x5c: cert.raw.toString('base64'),
    libtrustKid: libtrustKeyId(cert.publicKey.export({ type: 'spki', format: 'der' })),
  };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** libtrust: base32(sha256(DER SubjectPublicKeyInfo)[:30]) in 12 colon-separated groups of 4. */
export function libtrustKeyId(spkiDer: Buffer): string {
  const bytes = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}
