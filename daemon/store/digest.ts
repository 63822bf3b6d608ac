// Content digests at the store's edge: protocol/digest.ts's grammar, with errors naming the store's field.
import { createHash, type Hash } from 'node:crypto';
import {
  type DigestAlgorithm,
  InvalidDigestError,
  parseDigest as parseProtocolDigest,
} from '../../protocol/index.ts';
import { InvalidArgumentError, InvalidDigestArgumentError } from './errors.ts';

export type { DigestAlgorithm };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** `algorithm:hex`, the canonical string. */
  value: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** Parses `sha256:<64 hex>` or `sha512:<128 hex>` (protocol/digest.ts's grammar), naming the field and the reason. */
export function parseDigest(value: unknown, field = 'digest'): ParsedDigest {
  if (typeof value !== 'string') throw new InvalidDigestArgumentError(field, 'not a string');
  try {
    const { algorithm, hex } = parseProtocolDigest(value);
    return { algorithm, hex, value };
  } catch (err) {
    if (err instanceof InvalidDigestError) {
      throw new InvalidDigestArgumentError(field, `"${clip(value)}": ${err.message}`);
    }
    throw err;
  }
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
