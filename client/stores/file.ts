// A token store in one JSON file (mode 0600), shared safely by several processes:
// {"version":1,"registries":{"<host>":{"username":…,"refreshToken":…,"accessToken":…,"accessTokenFor":…,
// "expiresAt":…}}}

import { registryHostKey } from '../../protocol/registry-host.ts';
import { InvalidStoreFileError } from '../errors.ts';
import type { LockFileOptions } from './lock-file.ts';
import { LockedFile } from './locked-file.ts';
import type { TokenEntry, TokenStore } from './token-store.ts';

const FILE_MODE = 0o600;

type Registries = Record<string, TokenEntry>;

export interface FileTokenStoreOptions {
  lock?: LockFileOptions;
}

export function createFileTokenStore(filePath: string, options: FileTokenStoreOptions = {}): TokenStore {
  const file = new LockedFile(filePath, options.lock);

  async function load(): Promise<Registries> {
    const text = await file.read();
    return text === undefined ? {} : parseTokenFile(text, file.path);
  }

  function update(change: (registries: Registries) => void): Promise<void> {
    return file.withLock(async () => {
      const registries = await load();
      change(registries);
      await file.write(`${JSON.stringify({ version: 1, registries }, null, 2)}\n`, FILE_MODE);
    });
  }

  return {
    async get(host) {
      return (await load())[registryHostKey(host)];
    },
    set(host, entry) {
      return update((registries) => {
        registries[registryHostKey(host)] = cleanEntry(entry);
      });
    },
    delete(host) {
      return update((registries) => {
        delete registries[registryHostKey(host)];
      });
    },
    withLock(_host, fn) {
      return file.withLock(fn);
    },
  };
}

function cleanEntry(entry: TokenEntry): TokenEntry {
  const out: TokenEntry = {};
  for (const key of STRING_FIELDS) if (entry[key] !== undefined) out[key] = entry[key];
  if (entry.expiresAt !== undefined) out.expiresAt = entry.expiresAt;
  return out;
}

const STRING_FIELDS = ['username', 'password', 'refreshToken', 'accessToken', 'accessTokenFor'] as const;

/** Validates the file at the edge; an error names the entry and field that is wrong. */
export function parseTokenFile(text: string, where: string): Registries {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidStoreFileError(where, 'not valid JSON');
  }
  if (!isObject(parsed)) throw new InvalidStoreFileError(where, 'expected a JSON object');
  if (parsed['version'] !== 1) throw new InvalidStoreFileError(where, 'field "version" must be 1');
  const registries = parsed['registries'] ?? {};
  if (!isObject(registries)) throw new InvalidStoreFileError(where, 'field "registries" must be an object');
  const out: Registries = {};
  for (const [host, raw] of Object.entries(registries)) {
    if (!isObject(raw)) throw new InvalidStoreFileError(where, `registries["${host}"] must be an object`);
    const entry: TokenEntry = {};
    for (const key of STRING_FIELDS) {
      const value = raw[key];
      if (value === undefined) continue;
      if (typeof value !== 'string') {
        throw new InvalidStoreFileError(where, `registries["${host}"].${key} must be a string`);
      }
      entry[key] = value;
    }
    const expiresAt = raw['expiresAt'];
    if (expiresAt !== undefined) {
      if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
        throw new InvalidStoreFileError(
          where,
          `registries["${host}"].expiresAt must be a number (ms since epoch)`,
        );
      }
      entry.expiresAt = expiresAt;
    }
    out[host] = entry;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
