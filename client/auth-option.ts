// The `auth` option of pull/push/distributionInspect, read once at the edge into one AuthConfig.
// Accepted: an AuthConfig object (any key casing: `Username` works), dockerode's pre-encoded `{key}` and
// `{base64}`, under `auth`, `authconfig` or `authConfig` (users write all three; dockerode reads only the second).

import {
  type AuthConfig,
  decodeAuthConfig,
  InvalidAuthHeaderError,
  parseAuthConfig,
} from '../api-spec/auth-config.ts';
import { InvalidAuthOptionError } from './errors.ts';

export type AuthOption = AuthConfig | { key: string } | { base64: string };

export interface AuthOptions {
  auth?: AuthOption;
  authconfig?: AuthOption;
  authConfig?: AuthOption;
}

const OPTION_NAMES = ['auth', 'authconfig', 'authConfig'] as const;

export function readAuthOption(options: AuthOptions): AuthConfig | undefined {
  const given = OPTION_NAMES.filter((name) => options[name] !== undefined);
  if (given.length > 1) {
    throw new InvalidAuthOptionError(`give credentials once: both "${given[0]}" and "${given[1]}" are set`);
  }
  const name = given[0];
  if (name === undefined) return undefined;
  return parseAuthOption(options[name], name);
}

function parseAuthOption(value: unknown, name: string): AuthConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidAuthOptionError(`option "${name}" must be an object`);
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined);
  const encoded =
    keys.length === 1 && (keys[0] === 'key' || keys[0] === 'base64') ? record[keys[0]] : undefined;
  try {
    if (encoded !== undefined) {
      if (typeof encoded !== 'string')
        throw new InvalidAuthOptionError(`option "${name}.${keys[0]}" must be a string`);
      // Decoded so a challenge retry can add to it; decodeAuthConfig takes base64url and std base64 alike.
      return decodeAuthConfig(encoded, `option "${name}"`);
    }
    return parseAuthConfig(record, `option "${name}"`);
  } catch (err) {
    if (err instanceof InvalidAuthHeaderError) throw new InvalidAuthOptionError(err.message, { cause: err });
    throw err;
  }
}
