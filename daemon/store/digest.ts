// Content digests at the store's edge. A local validator on purpose: the store must not depend on protocol/ yet.
import { createHash, type Hash } from 'node:crypto';
import { InvalidArgumentError, InvalidDigestError } from './errors.ts';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** `algorithm:hex`, the canonical string. */
  value: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** Parses `sha256:<64 hex>` or `sha512:<128 hex>` (lower-case), naming the field and the reason when it is not. */
export function parseDigest(value: unknown, field = 'digest'): ParsedDigest {
  if (typeof value !== 'string') throw new InvalidDigestError(field, 'not a string');
  const colon = value.indexOf(':');
  if (colon <= 0) throw new InvalidDigestError(field, `"${clip(value)}" has no "algorithm:" prefix`);
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new InvalidDigestError(field, `unsupported algorithm "${clip(algorithm)}" (sha256 or sha512)`);
  }
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) {
    throw new InvalidDigestError(field, `${algorithm} needs ${HEX_LENGTH[algorithm]} lower-case hex digits`);
  }
  return { algorithm, hex, value };
}

/** The algorithm whose hex digests have this length, for names found on disk (`<hex>.partial`). */
export function algorithmForHex(hex: string): DigestAlgorithm | undefined {
  if (!/^[0-9a-f]+$/.test(hex)) return undefined;
  if (hex.length === HEX_LENGTH.sha256) return 'sha256';
  if (hex.length === HEX_LENGTH.sha512) return 'sha512';
  return undefined;
}

export function isDigestAlgorithm(name: string): name is DigestAlgorithm {
  return name === 'sha256' || name === 'sha512';
}

export function newHash(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** A descriptor's size: a non-negative safe integer. */
export function parseSize(value: unknown, field = 'size'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(field, `${String(value).slice(0, 32)} is not a non-negative integer`);
  }
  return value;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
