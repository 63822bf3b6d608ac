// dockerd-style flags of `dockhand daemon`, parsed with node:util parseArgs.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from './errors.ts';
import type { DaemonSettings, SettingsContext } from './settings.ts';
import {
  parseInsecureRegistry,
  parseListenAddress,
  parseLogLevel,
  parseMirrorUrl,
  parseNonNegativeInt,
  parsePositiveInt,
} from './values.ts';

const OPTIONS = {
  host: { type: 'string', short: 'H', multiple: true },
  'data-root': { type: 'string' },
  'insecure-registry': { type: 'string', multiple: true },
  'registry-mirror': { type: 'string', multiple: true },
  'max-concurrent-downloads': { type: 'string' },
  'log-level': { type: 'string', short: 'l' },
  'certs-dir': { type: 'string' },
  'auth-challenge-timeout': { type: 'string' },
  'registry-retries': { type: 'string' },
  'registry-timeout': { type: 'string' },
  'registry-idle-timeout': { type: 'string' },
  'registry-min-rate': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const DAEMON_USAGE = `Usage: dockhand daemon [OPTIONS]

Runs the Dockhand image daemon in the foreground, serving the Docker Engine API subset.

Options:
  -H, --host ADDR                     Listen on unix:///path/to.sock or tcp://127.0.0.1:PORT (repeatable)
                                      default: $XDG_RUNTIME_DIR/dockhand.sock, else ./.dockhand/dockhand.sock
      --data-root DIR                 Where images are stored
                                      default: $XDG_DATA_HOME/dockhand, else ~/.local/share/dockhand
      --insecure-registry HOST[:PORT] Allow plain HTTP to this registry, or CIDR (repeatable;
                                      127.0.0.0/8 and ::1 are always allowed)
      --registry-mirror URL           Mirror of Docker Hub, tried before it (repeatable)
      --max-concurrent-downloads N    Layers downloaded at once per pull (default 3)
      --certs-dir DIR                 CA files per registry, DIR/<host:port>/*.crt (default /etc/docker/certs.d)
      --auth-challenge-timeout SECONDS
                                      How long a pull or push waits for its client to answer a registry
                                      challenge raised mid-stream (default 60)
      --registry-retries N            Retries of a failed registry request, with backoff (default 4)
      --registry-timeout SECONDS      Deadline of one registry request until its answer, retries included
                                      (default 120)
      --registry-idle-timeout SECONDS Longest wait for a connection, headers or the next body bytes (default 30)
      --registry-min-rate BYTES       Minimum blob download rate over 30 s, in bytes/s; 0 for none (default 1024)
  -l, --log-level LEVEL               fatal, error, warn, info, debug or trace (default info)
      --config FILE                   JSON file with the same keys (kebab-case as in daemon.json, or camelCase),
                                      plus "registryMirrors": {"host:port": ["http://mirror"]}; flags win
  -h, --help                          Print this help
`;

export interface ParsedFlags {
  help: boolean;
  configFile?: string;
  settings: DaemonSettings;
}

export function parseDaemonFlags(argv: string[], ctx: SettingsContext): ParsedFlags {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    throw new ConfigError('flags', (err as Error).message);
  }
  const settings: DaemonSettings = {};
  if (values.host)
    settings.hosts = values.host.map((h) => parseListenAddress(h, '--host', ctx.defaultSocket));
  if (values['data-root'] !== undefined) {
    if (values['data-root'].trim() === '') throw new ConfigError('--data-root', 'must not be empty');
    settings.dataRoot = resolve(ctx.cwd, values['data-root']);
  }
  if (values['insecure-registry']) {
    settings.insecureRegistries = values['insecure-registry'].map((r) =>
      parseInsecureRegistry(r, '--insecure-registry'),
    );
  }
  if (values['registry-mirror']) {
    settings.hubMirrors = values['registry-mirror'].map((m) => parseMirrorUrl(m, '--registry-mirror'));
  }
  if (values['max-concurrent-downloads'] !== undefined) {
    settings.maxConcurrentDownloads = parsePositiveInt(
      values['max-concurrent-downloads'],
      '--max-concurrent-downloads',
    );
  }
  if (values['certs-dir'] !== undefined) {
    if (values['certs-dir'].trim() === '') throw new ConfigError('--certs-dir', 'must not be empty');
    settings.certsDir = resolve(ctx.cwd, values['certs-dir']);
  }
  if (values['auth-challenge-timeout'] !== undefined) {
    settings.authChallengeTimeout = parsePositiveInt(
      values['auth-challenge-timeout'],
      '--auth-challenge-timeout',
    );
  }
  if (values['registry-retries'] !== undefined)
    settings.registryRetries = parseNonNegativeInt(values['registry-retries'], '--registry-retries');
  if (values['registry-timeout'] !== undefined)
    settings.registryTimeout = parsePositiveInt(values['registry-timeout'], '--registry-timeout');
  if (values['registry-idle-timeout'] !== undefined)
    settings.registryIdleTimeout = parsePositiveInt(
      values['registry-idle-timeout'],
      '--registry-idle-timeout',
    );
  if (values['registry-min-rate'] !== undefined)
    settings.registryMinRate = parseNonNegativeInt(values['registry-min-rate'], '--registry-min-rate');
  if (values['log-level'] !== undefined)
    settings.logLevel = parseLogLevel(values['log-level'], '--log-level');
  const out: ParsedFlags = { help: values.help === true, settings };
  if (values.config !== undefined) out.configFile = values.config;
  return out;
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
}
