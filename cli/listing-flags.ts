// The flags of the registry listings (`catalog`, `tags`): `--format table|json` as `images` takes it, and
// `--page-size N`, how many names each request to the registry asks for.

import type { FlagValues, ParseArgsOptionsConfig } from './command.ts';
import { UsageError } from './failures.ts';

export const LISTING_OPTIONS = {
  format: { type: 'string' },
  'page-size': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const LISTING_HELP = [
  "      --format string   Format output: 'table' (default) or 'json' (one object per line)",
  "      --page-size int   Names asked for per request to the registry (default: the registry's)",
];

export interface ListingFlags {
  format: 'table' | 'json';
  pageSize: number | undefined;
}

export function readListingFlags(flags: FlagValues<typeof LISTING_OPTIONS>): ListingFlags {
  const format = flags.format ?? 'table';
  if (format !== 'table' && format !== 'json') {
    throw new UsageError(`--format: "${format}" is not one of table, json`);
  }
  const size = flags['page-size'];
  if (size === undefined) return { format, pageSize: undefined };
  if (!/^[1-9][0-9]{0,8}$/.test(size))
    throw new UsageError(`--page-size: "${size}" is not a positive integer`);
  return { format, pageSize: Number(size) };
}
