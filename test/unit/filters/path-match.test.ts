// The glob of moby's filters (Go's path.Match): its answers on Go's documented cases, its refusals, and that a
// pattern full of stars costs steps in proportion to its length, not exponentially in its stars.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compilePathPattern,
  InvalidPatternError,
  MAX_PATTERN_LENGTH,
} from '../../../daemon/filters/path-match.ts';
import { checkProperty, parsesOrRefuses } from '../../helpers/property.ts';

const matches = (pattern: string, name: string) => compilePathPattern(pattern).test(name);

describe('compilePathPattern', () => {
  it('answers as path.Match: stars stop at "/", "?" is one character, classes and escapes', () => {
    const yes: [string, string][] = [
      ['alpine', 'alpine'],
      ['*', 'alpine'],
      ['*:3.20', 'alpine:3.20'],
      ['al*', 'al'],
      ['127.0.0.1:5000/*', '127.0.0.1:5000/small'],
      ['127.0.0.1:5000/*:1', '127.0.0.1:5000/small:1'],
      ['s*/b', 'small/b'],
      ['a*b*c*d*/f', 'axbxcxdxxx/f'],
      ['a*b?c*x', 'abxbbxdbxebxczzx'],
      ['v[0-9]', 'v7'],
      ['v[^0-9]', 'vx'],
      ['a\\*b', 'a*b'],
      ['a?b', 'a☺b'],
      ['[a-ζ]*', 'α'],
      ['[\\]a]', ']'],
      ['[x\\-]', '-'],
      ['*x', 'xxx'],
      ['[*]', '*'],
    ];
    const no: [string, string][] = [
      ['al*', 'al/pine'],
      ['*', 'a/b'],
      ['a*/b', 'a/c/b'],
      ['a*b*c*d*/f', 'axbxcxdxx/x/f'],
      ['a*b?c*x', 'abxbbxdbxebxczzy'],
      ['v[^0-9]', 'v7'],
      ['a\\*b', 'ab'],
      ['a???b', 'a☺b'],
      ['a?b', 'a/b'],
      ['[x\\-]', 'z'],
      ['alpine', 'alpine:3.20'],
      ['', 'a'],
    ];
    for (const [pattern, name] of yes) expect(matches(pattern, name), `${pattern} ~ ${name}`).toBe(true);
    for (const [pattern, name] of no) expect(matches(pattern, name), `${pattern} ~ ${name}`).toBe(false);
    expect(matches('', '')).toBe(true);
  });

  it('refuses the patterns path.Match calls malformed, naming the pattern', () => {
    for (const bad of [
      '[]a]',
      '[-]',
      '[x-]',
      '[-x]',
      '\\',
      '[a-b-c]',
      '[',
      '[^',
      '[^bc',
      'a[',
      'a/b[',
      '*[',
      'x*\\',
    ]) {
      expect(() => compilePathPattern(bad), bad).toThrow(InvalidPatternError);
    }
    expect(() => compilePathPattern('a[')).toThrow('invalid pattern "a["');
  });

  it(`refuses patterns longer than ${MAX_PATTERN_LENGTH} characters`, () => {
    expect(() => compilePathPattern('a'.repeat(MAX_PATTERN_LENGTH + 1))).toThrow(
      `longer than ${MAX_PATTERN_LENGTH} characters`,
    );
    expect(matches('a'.repeat(MAX_PATTERN_LENGTH), 'a'.repeat(MAX_PATTERN_LENGTH))).toBe(true);
  });

  it('matches a pattern of stars without backtracking', () => {
    // As a regular expression (what the reference filter used), 30 stars against this name take hours.
    const pattern = `${'*'.repeat(1)}${'a*'.repeat(30)}zz`;
    const name = `127.0.0.1:5000/${'a'.repeat(200)}:${'a'.repeat(100)}`;
    expect(matches(pattern, name)).toBe(false);
    expect(matches(`${'*a'.repeat(30)}*`, `x/${'a'.repeat(30)}`)).toBe(false);
    expect(matches(`${'*a'.repeat(30)}*`, 'a'.repeat(300))).toBe(true);
  });

  it('returns or throws InvalidPatternError on any pattern and name', () => {
    const glob = fc.string({ unit: fc.constantFrom(...'ab/*?[]^-\\:.☺'.split('')), maxLength: 40 });
    checkProperty(
      fc.property(glob, fc.string({ maxLength: 40 }), (pattern, name) =>
        parsesOrRefuses(
          (p: string) => compilePathPattern(p).test(name),
          (e) => e instanceof InvalidPatternError,
        )(pattern),
      ),
      { numRuns: 3000 },
    );
  });

  it('agrees with the equivalent regular expression where no pattern character can match "/"', () => {
    const item = fc.constantFrom('a', 'b', '*', '?', '[ab]', '[b-c]', '\\*', '.');
    const pattern = fc.array(item, { maxLength: 8 }).map((items) => items.join(''));
    const name = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '/', '*', '.'), maxLength: 10 });
    const asRegExp = (glob: string) =>
      new RegExp(
        `^${glob
          .replace(/\\\*/g, '\u0000')
          .replace(/\./g, '\\.')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')
          .replace(/\u0000/g, '\\*')}$`,
      );
    checkProperty(
      fc.property(pattern, name, (p, n) => {
        expect(matches(p, n)).toBe(asRegExp(p).test(n));
      }),
      { numRuns: 3000 },
    );
  });
});
