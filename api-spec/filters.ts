// moby's `filters` query parameter: JSON, either {"key":{"value":true}} (canonical) or {"key":["value"]} (legacy).

export class InvalidFiltersError extends Error {
  override readonly name = 'InvalidFiltersError';
}

export function parseFilters(raw: string | undefined): Record<string, string[]> {
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidFiltersError('invalid filters: not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidFiltersError('invalid filters: expected a JSON object');
  }
  // No prototype: a "__proto__" key is a key like any other (an unknown filter), not the object's prototype.
  const out: Record<string, string[]> = Object.create(null);
  for (const [key, value] of Object.entries(parsed)) {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      out[key] = value;
    } else if (typeof value === 'object' && value !== null) {
      out[key] = Object.entries(value)
        .filter(([, on]) => on === true)
        .map(([v]) => v);
    } else {
      throw new InvalidFiltersError(`invalid filters: "${key}" must be a list or a map of values`);
    }
  }
  return out;
}

export function formatFilters(filters: Record<string, string[]>): string {
  const out: Record<string, Record<string, boolean>> = {};
  for (const [key, values] of Object.entries(filters)) {
    out[key] = Object.fromEntries(values.map((v) => [v, true]));
  }
  return JSON.stringify(out);
}
