// `--filter key=value` (repeatable), as docker reads it, into the Engine API's filter map.

import { UsageError } from '../failures.ts';

export function parseFilterFlags(
  values: readonly string[] | undefined,
): Record<string, string[]> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const filters: Record<string, string[]> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value): ${value}`);
    const key = value.slice(0, eq).trim().toLowerCase();
    filters[key] = [...(filters[key] ?? []), value.slice(eq + 1)];
  }
  return filters;
}
