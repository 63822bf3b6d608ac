// X-Registry-Auth: base64url(JSON(AuthConfig)), as moby's api/pkg/authconfig encodes it (with '=' padding).

/** What a client sends in X-Registry-Auth (and the body of POST /auth). All fields optional, keys lower-case. */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64("user:pass") as stored in config.json. */
  auth?: string;
  /** Registry the credentials are for: host[:port], or Hub's "https://index.docker.io/v1/". */
  serveraddress?: string;
  /** OAuth refresh token (docker's identity token). */
  identitytoken?: string;
  /** Bearer token sent as-is to the registry named by serveraddress. */
  registrytoken?: string;
  /** Dockhand extension: bearer tokens per registry host[:port], so one retry can answer a mirror and its origin. */
  registrytokens?: Record<string, string>;
  /**
   * Dockhand extension: seconds each bearer token (by host) stays valid, as its token server said. With authChannel
   * the daemon asks the client to renew a token shortly before it expires.
   */
  registrytokenttl?: Record<string, number>;
  /** @deprecated kept because older clients still send it. */
  email?: string;
}

export const AUTH_HEADER = 'x-registry-auth';

export class InvalidAuthHeaderError extends Error {
  override readonly name = 'InvalidAuthHeaderError';
}

export function encodeAuthConfig(config: AuthConfig): string {
  // Go's base64.URLEncoding keeps '=' padding; Buffer's base64url drops it, so translate the padded alphabet.
  return Buffer.from(JSON.stringify(config), 'utf8')
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

const STRING_FIELDS = [
  'username',
  'password',
  'auth',
  'serveraddress',
  'identitytoken',
  'registrytoken',
  'email',
] as const;

/**
 * Decodes X-Registry-Auth. Accepts base64url padded or not, and standard base64 (dockerode and others send it):
 * moby silently drops what it cannot decode and pulls anonymously (moby#33434); we refuse with a reason instead.
 * `where` names the value in errors (the SDK decodes an option given in the same encoding).
 */
export function decodeAuthConfig(
  header: string | undefined,
  where: string = 'X-Registry-Auth header',
): AuthConfig {
  const value = header?.trim() ?? '';
  if (value === '') return {};
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    throw new InvalidAuthHeaderError(
      `invalid ${where}: must be a valid base64url-encoded string (characters outside the alphabet)`,
    );
  }
  const json = Buffer.from(
    value.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
    'base64url',
  ).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new InvalidAuthHeaderError(`invalid ${where}: the decoded value is not one JSON document`);
  }
  return parseAuthConfig(parsed, where);
}

/** Validates an AuthConfig object from untrusted JSON (the header or the POST /auth body). */
export function parseAuthConfig(input: unknown, where: string): AuthConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidAuthHeaderError(`invalid ${where}: expected a JSON object`);
  }
  const src = input as Record<string, unknown>;
  const out: AuthConfig = {};
  for (const key of Object.keys(src)) {
    const lower = key.toLowerCase();
    const value = src[key];
    if (value === undefined || value === null) continue;
    if ((STRING_FIELDS as readonly string[]).includes(lower)) {
      if (typeof value !== 'string')
        throw new InvalidAuthHeaderError(`invalid ${where}: field "${key}" must be a string`);
      if (value !== '') (out as Record<string, string>)[lower] = value;
    } else if (lower === 'registrytokens') {
      out.registrytokens = parseTokenMap(value, where);
    } else if (lower === 'registrytokenttl') {
      out.registrytokenttl = parseTtlMap(value, where);
    }
  }
  return out;
}

function parseTokenMap(value: unknown, where: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidAuthHeaderError(
      `invalid ${where}: field "registrytokens" must be an object of host to token`,
    );
  }
  const out: Record<string, string> = {};
  for (const [host, token] of Object.entries(value)) {
    if (typeof token !== 'string') {
      throw new InvalidAuthHeaderError(`invalid ${where}: registrytokens["${host}"] must be a string`);
    }
    out[host] = token;
  }
  return out;
}

function parseTtlMap(value: unknown, where: string): Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidAuthHeaderError(
      `invalid ${where}: field "registrytokenttl" must be an object of host to seconds`,
    );
  }
  const out: Record<string, number> = {};
  for (const [host, seconds] of Object.entries(value)) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
      throw new InvalidAuthHeaderError(
        `invalid ${where}: registrytokenttl["${host}"] must be a positive number of seconds`,
      );
    }
    out[host] = seconds;
  }
  return out;
}
