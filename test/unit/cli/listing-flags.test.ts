import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/failures.ts';
import { readListingFlags } from '../../../cli/listing-flags.ts';

describe('readListingFlags', () => {
  it('defaults to a table at the registry page size', () => {
    expect(readListingFlags({})).toEqual({ format: 'table', pageSize: undefined });
    expect(readListingFlags({ format: 'json', 'page-size': '2' })).toEqual({ format: 'json', pageSize: 2 });
  });

  it.each(['0', '-1', '1.5', '2e3', 'x', '', '1000000000'])('refuses --page-size %j', (size) => {
    expect(() => readListingFlags({ 'page-size': size })).toThrow(UsageError);
  });

  it('refuses a format other than table or json', () => {
    expect(() => readListingFlags({ format: 'yaml' })).toThrow('--format: "yaml" is not one of table, json');
  });
});
