// Platform parameters: `os[/arch[/variant]]` on POST /images/create (protocol/platform.ts) and a JSON OCI platform
// on push.
import type { OCIPlatform } from '../../api-spec/types.ts';
import { InvalidPlatformError, parsePlatform } from '../../protocol/index.ts';
import { InvalidParameterError } from '../errors.ts';

/** Parses `os[/arch[/variant]]`; empty means "the default platform" (undefined). Throws a 400 naming the value. */
export function parsePlatformParam(value: string | undefined): OCIPlatform | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  try {
    return parsePlatform(value);
  } catch (err) {
    if (err instanceof InvalidPlatformError) throw new InvalidParameterError(err.message);
    throw err;
  }
}

/** Parses push's JSON OCI platform (`{"os":"linux","architecture":"arm64"}`); empty means none. */
export function parsePlatformJson(value: string | undefined, field: string): OCIPlatform | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidParameterError(`invalid ${field}: not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidParameterError(`invalid ${field}: expected a JSON object`);
  }
  const p = parsed as Record<string, unknown>;
  if (typeof p['os'] !== 'string' || typeof p['architecture'] !== 'string') {
    throw new InvalidParameterError(`invalid ${field}: "os" and "architecture" must be strings`);
  }
  const out: OCIPlatform = { os: p['os'], architecture: p['architecture'] };
  if (typeof p['variant'] === 'string' && p['variant'] !== '') out.variant = p['variant'];
  if (typeof p['os.version'] === 'string' && p['os.version'] !== '') out['os.version'] = p['os.version'];
  if (Array.isArray(p['os.features']) && p['os.features'].every((f) => typeof f === 'string')) {
    out['os.features'] = p['os.features'];
  }
  return out;
}
