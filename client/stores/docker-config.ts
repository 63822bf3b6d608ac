// A token store over docker's own config.json, so `docker login` and this SDK share credentials:
// `auths` (auth = base64 user:pass, identitytoken), `credsStore` and `credHelpers` (docker-credential-<name>),
// and the read-only DOCKER_AUTH_CONFIG overlay. Keys follow docker: Hub is "https://index.docker.io/v1/".
// Access tokens are not kept here: docker would send a stored `registrytoken` as-is after it expired.

import os from 'node:os';
import path from 'node:path';
import { registryHostKey } from '../../protocol/registry-host.ts';
import { InvalidStoreFileError } from '../errors.ts';
import {
  type HelperOptions,
  helperErase,
  helperGet,
  helperStore,
  IDENTITY_TOKEN_USERNAME,
} from './credential-helper.ts';
import type { LockFileOptions } from './lock-file.ts';
import { LockedFile } from './locked-file.ts';
import type { TokenEntry, TokenStore } from './token-store.ts';

export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

export interface DockerConfigStoreOptions {
  /** The directory holding config.json; default $DOCKER_CONFIG, else ~/.docker. */
  configDir?: string;
  /** Environment for DOCKER_CONFIG, DOCKER_AUTH_CONFIG, HOME and the helpers' PATH. */
  env?: NodeJS.ProcessEnv;
  lock?: LockFileOptions;
}

interface AuthEntry {
  auth?: string;
  identitytoken?: string;
  username?: string;
  password?: string;
}

type ConfigFile = Record<string, unknown> & {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
};

export function dockerConfigPath(options: Pick<DockerConfigStoreOptions, 'configDir' | 'env'> = {}): string {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? env['DOCKER_CONFIG'] ?? path.join(env['HOME'] ?? os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

/** docker's getAuthConfigKey: Hub's domains map to the index URL, others are `host[:port]`. */
export function dockerConfigKey(host: string): string {
  const key = registryHostKey(host);
  return key === 'docker.io' ? DOCKER_HUB_CONFIG_KEY : key;
}

export function createDockerConfigStore(options: DockerConfigStoreOptions = {}): TokenStore {
  const env = options.env ?? process.env;
  const file = new LockedFile(dockerConfigPath(options), options.lock);
  const helperOptions: HelperOptions = { env };

  async function load(): Promise<ConfigFile> {
    const text = await file.read();
    return text === undefined ? {} : parseConfigFile(text, file.path);
  }

  function update(change: (config: ConfigFile) => void): Promise<void> {
    return file.withLock(async () => {
      const config = await load();
      change(config);
      // docker keeps the existing file's permissions; a new file gets 0600.
      const mode = (await file.mode()) ?? 0o600;
      await file.write(`${JSON.stringify(config, null, '\t')}\n`, mode);
    });
  }

  return {
    async get(host) {
      const key = dockerConfigKey(host);
      const fromEnv = envAuthEntry(env, key);
      if (fromEnv !== undefined) return fromEnv;
      const config = await load();
      const helper = helperFor(config, key);
      if (helper !== undefined) {
        const found = await helperGet(helper, key, helperOptions);
        if (found === undefined) return undefined;
        return found.Username === IDENTITY_TOKEN_USERNAME
          ? { refreshToken: found.Secret }
          : { username: found.Username, password: found.Secret };
      }
      const entry = findAuthEntry(config.auths ?? {}, key);
      return entry === undefined ? undefined : toTokenEntry(entry, file.path, key);
    },

    async set(host, entry) {
      const key = dockerConfigKey(host);
      const config = await load();
      const helper = helperFor(config, key);
      if (helper !== undefined) {
        if (entry.refreshToken !== undefined) {
          await helperStore(
            helper,
            { ServerURL: key, Username: IDENTITY_TOKEN_USERNAME, Secret: entry.refreshToken },
            helperOptions,
          );
        } else if (entry.username !== undefined && entry.password !== undefined) {
          await helperStore(
            helper,
            { ServerURL: key, Username: entry.username, Secret: entry.password },
            helperOptions,
          );
        } else {
          await helperErase(helper, key, helperOptions);
        }
        // As docker's native store does: the secret lives in the helper, config.json only lists the registry.
        await update((c) => {
          c.auths = { ...(c.auths ?? {}), [key]: {} };
        });
        return;
      }
      await update((c) => {
        c.auths = { ...(c.auths ?? {}), [key]: toAuthEntry(entry) };
      });
    },

    async delete(host) {
      const key = dockerConfigKey(host);
      const config = await load();
      const helper = helperFor(config, key);
      if (helper !== undefined) await helperErase(helper, key, helperOptions);
      await update((c) => {
        const auths = { ...(c.auths ?? {}) };
        for (const k of Object.keys(auths)) if (dockerConfigKey(k) === key) delete auths[k];
        c.auths = auths;
      });
    },

    withLock(_host, fn) {
      return file.withLock(fn);
    },
  };
}

function helperFor(config: ConfigFile, key: string): string | undefined {
  const specific = config.credHelpers?.[key];
  if (specific) return specific;
  return config.credsStore || undefined;
}

/** The exact key first, then legacy keys (`https://host/v2/`) that name the same host, as docker's file store. */
function findAuthEntry(auths: Record<string, AuthEntry>, key: string): AuthEntry | undefined {
  if (auths[key] !== undefined) return auths[key];
  for (const [k, entry] of Object.entries(auths)) if (dockerConfigKey(k) === key) return entry;
  return undefined;
}

function toTokenEntry(entry: AuthEntry, where: string, key: string): TokenEntry | undefined {
  const out: TokenEntry = {};
  if (entry.auth) {
    const { username, password } = decodeBasicAuth(entry.auth, where, key);
    out.username = username;
    if (password !== '') out.password = password;
  } else {
    if (entry.username) out.username = entry.username;
    if (entry.password) out.password = entry.password;
  }
  if (entry.identitytoken) out.refreshToken = entry.identitytoken;
  return Object.keys(out).length === 0 ? undefined : out;
}

function toAuthEntry(entry: TokenEntry): AuthEntry {
  const out: AuthEntry = {};
  if (entry.username !== undefined || entry.password !== undefined) {
    out.auth = Buffer.from(`${entry.username ?? ''}:${entry.password ?? ''}`, 'utf8').toString('base64');
  }
  if (entry.refreshToken !== undefined) out.identitytoken = entry.refreshToken;
  return out;
}

/** docker's decodeAuth: std base64 of `user:pass`, split at the first ':', NULs trimmed from the password. */
function decodeBasicAuth(auth: string, where: string, key: string): { username: string; password: string } {
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    throw new InvalidStoreFileError(where, `auths["${key}"].auth must be base64 of "username:password"`);
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, '') };
}

/** DOCKER_AUTH_CONFIG: `{"auths":{"<key>":{"auth":"<base64 user:pass>"}}}`, consulted before the file. */
function envAuthEntry(env: NodeJS.ProcessEnv, key: string): TokenEntry | undefined {
  const raw = env['DOCKER_AUTH_CONFIG'];
  if (raw === undefined || raw.trim() === '') return undefined;
  const config = parseConfigFile(raw, 'DOCKER_AUTH_CONFIG');
  const entry = findAuthEntry(config.auths ?? {}, key);
  if (entry === undefined) return undefined;
  if (!entry.auth) throw new InvalidStoreFileError('DOCKER_AUTH_CONFIG', `missing key \`auth\` for ${key}`);
  return toTokenEntry(entry, 'DOCKER_AUTH_CONFIG', key);
}

/** Validates the parts of config.json this store reads; everything else is kept as it is. */
export function parseConfigFile(text: string, where: string): ConfigFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidStoreFileError(where, 'not valid JSON');
  }
  if (!isObject(parsed)) throw new InvalidStoreFileError(where, 'expected a JSON object');
  const auths = parsed['auths'];
  if (auths !== undefined && auths !== null) {
    if (!isObject(auths)) throw new InvalidStoreFileError(where, 'field "auths" must be an object');
    for (const [key, entry] of Object.entries(auths)) {
      if (!isObject(entry)) throw new InvalidStoreFileError(where, `auths["${key}"] must be an object`);
      for (const field of ['auth', 'identitytoken', 'username', 'password'] as const) {
        const value = entry[field];
        if (value !== undefined && value !== null && typeof value !== 'string') {
          throw new InvalidStoreFileError(where, `auths["${key}"].${field} must be a string`);
        }
      }
    }
  }
  const credsStore = parsed['credsStore'];
  if (credsStore !== undefined && typeof credsStore !== 'string') {
    throw new InvalidStoreFileError(where, 'field "credsStore" must be a string');
  }
  const credHelpers = parsed['credHelpers'];
  if (credHelpers !== undefined) {
    if (!isObject(credHelpers) || !Object.values(credHelpers).every((v) => typeof v === 'string')) {
      throw new InvalidStoreFileError(where, 'field "credHelpers" must map registries to helper names');
    }
  }
  return parsed as ConfigFile;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
