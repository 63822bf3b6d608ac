import { describe, expect, it } from 'vitest';
import { isDigest, parseDigest } from '../../../protocol/digest.ts';
import { InvalidDigestError } from '../../../protocol/errors.ts';

describe('parseDigest', () => {
  it('accepts sha256 and sha512', () => {
    expect(parseDigest(`sha256:${'a'.repeat(64)}`)).toEqual({ algorithm: 'sha256', hex: 'a'.repeat(64) });
    expect(parseDigest(`sha512:${'0'.repeat(128)}`)).toEqual({ algorithm: 'sha512', hex: '0'.repeat(128) });
  });

  it.each([
    ['', 'format'],
    ['sha256', 'format'],
    [':abc', 'format'],
    ['sha256:', 'format'],
    [`sha256:${'a'.repeat(63)}`, 'length'],
    [`sha512:${'a'.repeat(64)}`, 'length'],
    [`sha256:${'A'.repeat(64)}`, 'format'],
    [`sha256:${'g'.repeat(64)}`, 'format'],
    [`sha384:${'a'.repeat(96)}`, 'unsupported'],
    [`md5:${'a'.repeat(32)}`, 'unsupported'],
    ['SHA256!:abc', 'format'],
  ])('refuses %j (%s)', (input, reason) => {
    expect(() => parseDigest(input)).toThrow(InvalidDigestError);
    expect(() => parseDigest(input)).toThrow(expect.objectContaining({ reason, field: 'digest' }));
    expect(isDigest(input)).toBe(false);
  });
});
