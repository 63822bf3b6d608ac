// Content digests as go-digest v1.0.0 validates them, restricted to the algorithms OCI registers.
import { InvalidDigestError } from './errors.ts';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

// go-digest's grammar for any algorithm: used to tell "unsupported algorithm" from "not a digest at all".
const ANY_DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function isSupported(algorithm: string): algorithm is DigestAlgorithm {
  return algorithm === 'sha256' || algorithm === 'sha512';
}

/** Parses `algorithm:hex`; throws InvalidDigestError naming why it is not a usable digest. */
export function parseDigest(s: string): Digest {
  const colon = s.indexOf(':');
  if (colon <= 0 || colon === s.length - 1) {
    throw new InvalidDigestError('format', 'invalid checksum digest format');
  }
  const algorithm = s.slice(0, colon);
  const hex = s.slice(colon + 1);
  if (!isSupported(algorithm)) {
    if (!ANY_DIGEST.test(s)) throw new InvalidDigestError('format', 'invalid checksum digest format');
    throw new InvalidDigestError('unsupported', `unsupported digest algorithm: ${algorithm.slice(0, 32)}`);
  }
  if (hex.length !== HEX_LENGTH[algorithm]) {
    throw new InvalidDigestError('length', 'invalid checksum digest length');
  }
  if (!/^[a-f0-9]+$/.test(hex)) throw new InvalidDigestError('format', 'invalid checksum digest format');
  return { algorithm, hex };
}

/** True when `s` parses as a supported digest. */
export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}
