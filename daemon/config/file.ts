// The --config FILE: JSON with the flags' keys, in dockerd's kebab-case daemon.json spelling or camelCase.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from './errors.ts';
import type { DaemonSettings, SettingsContext } from './settings.ts';
import {
  parseInsecureRegistry,
  parseListenAddress,
  parseLogLevel,
  parseMirrorUrl,
  parseNonNegativeInt,
  parsePositiveInt,
  parseRegistryHost,
} from './values.ts';

type Setting = keyof DaemonSettings;

/** Every accepted spelling, mapped to the setting it fills. */
const KEYS: Record<string, Setting | 'mirrors'> = {
  hosts: 'hosts',
  host: 'hosts',
  'data-root': 'dataRoot',
  dataRoot: 'dataRoot',
  'insecure-registries': 'insecureRegistries',
  'insecure-registry': 'insecureRegistries',
  insecureRegistries: 'insecureRegistries',
  'registry-mirrors': 'mirrors',
  'registry-mirror': 'mirrors',
  registryMirrors: 'mirrors',
  'max-concurrent-downloads': 'maxConcurrentDownloads',
  maxConcurrentDownloads: 'maxConcurrentDownloads',
  'log-level': 'logLevel',
  logLevel: 'logLevel',
  'certs-dir': 'certsDir',
  certsDir: 'certsDir',
  'auth-challenge-timeout': 'authChallengeTimeout',
  authChallengeTimeout: 'authChallengeTimeout',
  'registry-retries': 'registryRetries',
  registryRetries: 'registryRetries',
  'registry-timeout': 'registryTimeout',
  registryTimeout: 'registryTimeout',
  'registry-idle-timeout': 'registryIdleTimeout',
  registryIdleTimeout: 'registryIdleTimeout',
  'registry-min-rate': 'registryMinRate',
  registryMinRate: 'registryMinRate',
};

export async function loadConfigFile(path: string, ctx: SettingsContext): Promise<DaemonSettings> {
  let text: string;
  try {
    text = await readFile(resolve(ctx.cwd, path), 'utf8');
  } catch (err) {
    throw new ConfigError('--config', `cannot read ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('--config', `${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseConfigObject(json, path, ctx);
}

export function parseConfigObject(json: unknown, path: string, ctx: SettingsContext): DaemonSettings {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError('--config', `${path} must hold a JSON object`);
  }
  const out: DaemonSettings = {};
  const seen = new Map<Setting, string>();
  for (const [key, value] of Object.entries(json)) {
    const source = `config file ${path} key "${key}"`;
    const setting = settingOf(key, value);
    if (setting === undefined) throw new ConfigError(source, 'unknown key');
    const earlier = seen.get(setting);
    if (earlier !== undefined) throw new ConfigError(source, `sets the same thing as key "${earlier}"`);
    seen.set(setting, key);
    switch (setting) {
      case 'hosts':
        out.hosts = stringList(value, source).map((h) => parseListenAddress(h, source, ctx.defaultSocket));
        break;
      case 'dataRoot':
        out.dataRoot = resolve(ctx.cwd, nonEmptyString(value, source));
        break;
      case 'insecureRegistries':
        out.insecureRegistries = stringList(value, source).map((r) => parseInsecureRegistry(r, source));
        break;
      case 'hubMirrors':
        out.hubMirrors = stringList(value, source).map((m) => parseMirrorUrl(m, source));
        break;
      case 'registryMirrors':
        out.registryMirrors = mirrorMap(value, source);
        break;
      case 'maxConcurrentDownloads':
        out.maxConcurrentDownloads = parsePositiveInt(value, source);
        break;
      case 'certsDir':
        out.certsDir = resolve(ctx.cwd, nonEmptyString(value, source));
        break;
      case 'authChallengeTimeout':
        out.authChallengeTimeout = parsePositiveInt(value, source);
        break;
      case 'registryRetries':
        out.registryRetries = parseNonNegativeInt(value, source);
        break;
      case 'registryTimeout':
        out.registryTimeout = parsePositiveInt(value, source);
        break;
      case 'registryIdleTimeout':
        out.registryIdleTimeout = parsePositiveInt(value, source);
        break;
      case 'registryMinRate':
        out.registryMinRate = parseNonNegativeInt(value, source);
        break;
      case 'logLevel':
        out.logLevel = parseLogLevel(nonEmptyString(value, source), source);
        break;
    }
  }
  return out;
}

/** A mirrors key holds Hub's list (dockerd's `registry-mirrors`) or, as an object, the per-registry map. */
function settingOf(key: string, value: unknown): Setting | undefined {
  if (!Object.hasOwn(KEYS, key)) return undefined;
  const setting = KEYS[key];
  if (setting !== 'mirrors') return setting;
  return Array.isArray(value) || typeof value === 'string' ? 'hubMirrors' : 'registryMirrors';
}

function mirrorMap(value: unknown, source: string): Record<string, string[]> {
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError(
      source,
      'must be a list of mirror URLs or an object of registry host to mirror URLs',
    );
  }
  const out: Record<string, string[]> = {};
  for (const [host, mirrors] of Object.entries(value)) {
    const where = `${source} ["${host}"]`;
    out[parseRegistryHost(host, where)] = stringList(mirrors, where).map((m) => parseMirrorUrl(m, where));
  }
  return out;
}

function stringList(value: unknown, source: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
    throw new ConfigError(source, 'must be a string or a list of strings');
  }
  return list;
}

function nonEmptyString(value: unknown, source: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new ConfigError(source, 'must be a non-empty string');
  return value;
}
