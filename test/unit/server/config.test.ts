import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfigEnvironment,
  ConfigError,
  type DaemonConfig,
  parseDaemonArgs,
} from '../../../daemon/config.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dh-cfg-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bare: ConfigEnvironment = { env: {}, cwd: '/work/here', home: '/home/me' };
const xdg: ConfigEnvironment = {
  env: { XDG_RUNTIME_DIR: '/run/user/1000', XDG_DATA_HOME: '/data/me' },
  cwd: '/work/here',
  home: '/home/me',
};

async function configOf(argv: string[], environment = bare): Promise<DaemonConfig> {
  const args = await parseDaemonArgs(argv, environment);
  if (args.help) throw new Error('unexpected --help');
  return args.config;
}

async function errorOf(argv: string[]): Promise<ConfigError> {
  const err = await parseDaemonArgs(argv, bare).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('daemon flags', () => {
  it('defaults to ./.dockhand/dockhand.sock and ~/.local/share/dockhand without XDG variables', async () => {
    expect(await configOf([])).toEqual({
      hosts: [{ kind: 'unix', path: '/work/here/.dockhand/dockhand.sock' }],
      dataRoot: '/home/me/.local/share/dockhand',
      insecureRegistries: [],
      registryMirrors: {},
      maxConcurrentDownloads: 3,
      logLevel: 'info',
      certsDir: '/etc/docker/certs.d',
      authChallengeTimeout: 60,
      registryRetries: 4,
      registryTimeout: 120,
      registryIdleTimeout: 30,
      registryMinRate: 1024,
    });
  });

  it('uses $XDG_RUNTIME_DIR and $XDG_DATA_HOME when set', async () => {
    const c = await configOf([], xdg);
    expect(c.hosts).toEqual([{ kind: 'unix', path: '/run/user/1000/dockhand.sock' }]);
    expect(c.dataRoot).toBe('/data/me/dockhand');
  });

  it('parses repeatable -H/--host, --insecure-registry and --registry-mirror, and the scalar flags', async () => {
    const c = await configOf([
      '-H',
      'unix:///tmp/a.sock',
      '--host=tcp://127.0.0.1:2375',
      '--host',
      'tcp://[::1]:0',
      '--data-root',
      'rel/data',
      '--insecure-registry',
      'registry.lan:5000',
      '--insecure-registry=10.0.0.0/8',
      '--registry-mirror',
      'https://mirror.example.com',
      '--max-concurrent-downloads',
      '5',
      '--log-level',
      'DEBUG',
      '--certs-dir',
      'rel/certs.d',
      '--auth-challenge-timeout',
      '15',
      '--registry-retries',
      '0',
      '--registry-timeout',
      '30',
      '--registry-idle-timeout',
      '5',
      '--registry-min-rate',
      '0',
    ]);
    expect(c).toEqual({
      hosts: [
        { kind: 'unix', path: '/tmp/a.sock' },
        { kind: 'tcp', host: '127.0.0.1', port: 2375 },
        { kind: 'tcp', host: '::1', port: 0 },
      ],
      dataRoot: '/work/here/rel/data',
      insecureRegistries: ['registry.lan:5000', '10.0.0.0/8'],
      registryMirrors: { 'docker.io': ['https://mirror.example.com/'] },
      maxConcurrentDownloads: 5,
      logLevel: 'debug',
      certsDir: '/work/here/rel/certs.d',
      authChallengeTimeout: 15,
      registryRetries: 0,
      registryTimeout: 30,
      registryIdleTimeout: 5,
      registryMinRate: 0,
    });
  });

  it('returns help for -h and --help', async () => {
    expect(await parseDaemonArgs(['--help'], bare)).toEqual({ help: true });
    expect(await parseDaemonArgs(['-h'], bare)).toEqual({ help: true });
  });

  it('refuses bad values with errors naming the flag and the reason', async () => {
    const cases: [string[], string][] = [
      [['-H', 'tcp://0.0.0.0:2375'], '--host: "tcp://0.0.0.0:2375" is not a loopback address'],
      [['-H', 'tcp://192.168.1.2:2375'], 'is not a loopback address'],
      [['-H', 'http://127.0.0.1:1'], '--host: "http://127.0.0.1:1" must start with unix:// or tcp://'],
      [['-H', 'tcp://127.0.0.1:99999'], '--host: "tcp://127.0.0.1:99999" has a port above 65535'],
      [
        ['--insecure-registry', 'http://r:5000'],
        `--insecure-registry: insecure registry "http://r:5000" should not contain '://'`,
      ],
      [['--registry-mirror', 'ftp://m'], '--registry-mirror: mirror "ftp://m" must use http or https'],
      [['--registry-mirror', 'https://m/path'], 'must not have a path'],
      [['--max-concurrent-downloads', '0'], '--max-concurrent-downloads: "0" must be a positive integer'],
      [['--max-concurrent-downloads', 'three'], '--max-concurrent-downloads'],
      [['--log-level', 'loud'], '--log-level: "loud" must be one of fatal, error, warn, info, debug, trace'],
      [['--bogus'], "Unknown option '--bogus'"],
      [['stray'], 'stray'],
      [['--data-root', ''], '--data-root: must not be empty'],
    ];
    for (const [argv, message] of cases) {
      const err = await errorOf(argv);
      expect(err.message, argv.join(' ')).toContain(message);
    }
  });
});

describe('--config FILE', () => {
  async function file(name: string, content: unknown): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  }

  it("reads dockerd's kebab-case keys, and flags override the file key by key", async () => {
    const path = await file('kebab.json', {
      hosts: ['unix:///tmp/from-file.sock'],
      'data-root': '/var/lib/dh',
      'insecure-registries': ['a.lan:5000'],
      'registry-mirrors': ['https://m1'],
      'max-concurrent-downloads': 7,
      'log-level': 'warn',
      'certs-dir': '/etc/dh/certs.d',
      'auth-challenge-timeout': 90,
      'registry-retries': 2,
      'registry-timeout': 60,
      'registry-idle-timeout': 10,
      'registry-min-rate': 4096,
    });
    expect(await configOf(['--config', path])).toEqual({
      hosts: [{ kind: 'unix', path: '/tmp/from-file.sock' }],
      dataRoot: '/var/lib/dh',
      insecureRegistries: ['a.lan:5000'],
      registryMirrors: { 'docker.io': ['https://m1/'] },
      maxConcurrentDownloads: 7,
      logLevel: 'warn',
      certsDir: '/etc/dh/certs.d',
      authChallengeTimeout: 90,
      registryRetries: 2,
      registryTimeout: 60,
      registryIdleTimeout: 10,
      registryMinRate: 4096,
    });
    const overridden = await configOf([
      '--config',
      path,
      '--log-level',
      'error',
      '--registry-mirror',
      'http://m2',
    ]);
    expect(overridden.logLevel).toBe('error');
    expect(overridden.registryMirrors).toEqual({ 'docker.io': ['http://m2/'] });
    expect(overridden.dataRoot).toBe('/var/lib/dh');
  });

  it('reads camelCase keys and the per-registry mirror map', async () => {
    const path = await file('camel.json', {
      dataRoot: 'relative',
      insecureRegistries: '127.0.0.1:5001',
      registryMirrors: { '127.0.0.1:5000': ['http://127.0.0.1:5999'], 'Docker.io': ['https://hub-mirror'] },
      maxConcurrentDownloads: '2',
      logLevel: 'trace',
    });
    const c = await configOf(['--config', path]);
    expect(c.dataRoot).toBe('/work/here/relative');
    expect(c.insecureRegistries).toEqual(['127.0.0.1:5001']);
    expect(c.registryMirrors).toEqual({
      '127.0.0.1:5000': ['http://127.0.0.1:5999/'],
      'docker.io': ['https://hub-mirror/'],
    });
    expect(c.maxConcurrentDownloads).toBe(2);
  });

  it('keeps both a Hub mirror list and the per-registry map', async () => {
    const path = await file('both.json', {
      'registry-mirrors': ['https://hub'],
      registryMirrors: { 'r.lan': ['https://r-mirror'] },
    });
    expect((await configOf(['--config', path])).registryMirrors).toEqual({
      'r.lan': ['https://r-mirror/'],
      'docker.io': ['https://hub/'],
    });
  });

  it('refuses unknown keys, duplicates, bad JSON and bad values, naming the file and key', async () => {
    const unknown = await file('unknown.json', { 'data-root': '/x', debug: true });
    expect((await errorOf(['--config', unknown])).message).toBe(
      `config file ${unknown} key "debug": unknown key`,
    );
    const proto = await file('proto.json', '{"toString": 1}');
    expect((await errorOf(['--config', proto])).message).toContain('key "toString": unknown key');
    const dup = await file('dup.json', { 'data-root': '/a', dataRoot: '/b' });
    expect((await errorOf(['--config', dup])).message).toContain(
      'key "dataRoot": sets the same thing as key "data-root"',
    );
    const notJson = await file('bad.json', '{nope');
    expect((await errorOf(['--config', notJson])).message).toContain('is not valid JSON');
    const badHost = await file('host.json', { hosts: ['tcp://10.0.0.1:1'] });
    expect((await errorOf(['--config', badHost])).message).toContain(
      'key "hosts": "tcp://10.0.0.1:1" is not a loopback',
    );
    const badMirror = await file('mirror.json', { registryMirrors: { 'r.lan': 'ftp://x' } });
    expect((await errorOf(['--config', badMirror])).message).toContain(
      '["r.lan"]: mirror "ftp://x" must use http',
    );
    expect((await errorOf(['--config', join(dir, 'missing.json')])).message).toMatch(
      /^--config: cannot read/,
    );
  });
});
