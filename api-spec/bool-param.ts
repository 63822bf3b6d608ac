// moby's httputils.BoolValue: these values (trimmed, any case) are false; anything else present is true.
const FALSY = new Set(['', '0', 'no', 'false', 'none']);

/** Reads a boolean query parameter the way dockerd does: absent gives `fallback`, present goes through BoolValue. */
export function parseBoolParam(value: string | undefined | null, fallback = false): boolean {
  if (value === undefined || value === null) return fallback;
  return !FALSY.has(value.trim().toLowerCase());
}
