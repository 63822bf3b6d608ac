// The daemon's one string order: code units, the same on every machine (a locale's collation puts 'a' before 'B').
import { expect, it } from 'vitest';
import { compareStrings } from '../../daemon/string-order.ts';

it('orders strings by code units, not by any locale', () => {
  expect(['b', 'a', 'B', 'é', 'z', 'a:1', 'a'].sort(compareStrings)).toEqual([
    'B',
    'a',
    'a',
    'a:1',
    'b',
    'z',
    'é',
  ]);
  expect(compareStrings('x', 'x')).toBe(0);
});
