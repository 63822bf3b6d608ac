// `npm run demo`: the first ten minutes in one minute. Starts a registry with token auth and the rotating token
// server from the test rig, a Dockhand daemon, then drives the `dockhand` CLI as a user would:
//   1. `dockhand login --oauth` (the device flow; the demo approves the code itself, where a user would use a browser);
//   2. `dockhand --debug pull` of a multi-layer image: the challenge the daemon forwarded, answered by the CLI;
//   3. the refresh token rotated and stored; 4. a second pull from a new process, without refresh-token reuse.
// Everything it started is stopped and its files removed at the end, or on Ctrl-C.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage } from '../test/rig/fixtures.ts';
import { ensureTools } from '../test/rig/packages.ts';
import { startRegistry } from '../test/rig/registry.ts';
import { pushImage } from '../test/rig/skopeo.ts';
import { startTokenServer } from '../test/rig/token-server.ts';

const DOCKHAND = fileURLToPath(new URL('../cli/dockhand.js', import.meta.url));
const USER = { username: 'demo', password: 'demo-password' };
const started = Date.now();
const cleanups: (() => Promise<unknown>)[] = [];

const [bold, normal] = process.stdout.isTTY ? ['\u001b[1m', '\u001b[0m'] : ['', ''];
const say = (text: string) => process.stdout.write(`\n${bold}[demo ${seconds()}s] ${text}${normal}\n`);
const plain = (text: string) => process.stdout.write(`${text}\n`);
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
/** A refresh token shown as a fingerprint: the demo prints no credential. */
const fingerprint = (token: unknown) =>
  typeof token === 'string'
    ? `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 12)}…`
    : '(none)';

async function main(): Promise<void> {
  ensureTools();
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'dockhand-demo-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));

  say('Starting the token server (OAuth device flow, refresh-token rotation) and a registry with token auth');
  const tokens = await startTokenServer({
    users: { [USER.username]: USER.password },
    rotation: true,
    deviceInterval: 1,
  });
  cleanups.push(() => tokens.stop());
  const registry = await startRegistry({ auth: 'token', tokenServer: tokens });
  cleanups.push(() => registry.stop());
  const image = await buildImage({ layers: [3_000_000, 2_000_000, 1_000_000], seed: 42 }, { tag: '1' });
  for (const repository of ['demo/app', 'demo/tools']) {
    await pushImage({
      layoutDir: image.layoutDir,
      tag: image.tag,
      dest: `${registry.host}/${repository}:1`,
      creds: USER,
    });
  }
  plain(
    `registry ${registry.url} (token realm ${tokens.realm}), images demo/app:1 and demo/tools:1 (3 layers)`,
  );

  say('Starting the Dockhand daemon');
  const socket = path.join(dir, 'dockhand.sock');
  const daemon = spawn(
    process.execPath,
    [
      DOCKHAND,
      'daemon',
      '-H',
      `unix://${socket}`,
      '--data-root',
      path.join(dir, 'data'),
      '--log-level',
      'warn',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  cleanups.push(() => stop(daemon));
  const banner = await readUntil(daemon, /export DOCKER_HOST=\S+\n/);
  plain(banner.trim());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DOCKER_HOST: `unix://${socket}`,
    DOCKER_CONFIG: path.join(dir, 'docker'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
  };
  delete env['DOCKHAND_TOKEN_STORE'];
  const storeFile = path.join(dir, 'config', 'dockhand', 'tokens.json');
  const storedToken = async () =>
    JSON.parse(await fs.readFile(storeFile, 'utf8')).registries[registry.host]?.refreshToken as
      | string
      | undefined;

  say(`$ dockhand login --oauth ${registry.host}`);
  const login = spawn(process.execPath, [DOCKHAND, 'login', '--oauth', registry.host], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  login.stdout?.pipe(process.stdout);
  const pending = await tokens.device.nextPending();
  await readUntil(login, /Waiting for approval/);
  say(
    `The demo approves user code ${pending.userCode} at the token server itself (a user would open the page above)`,
  );
  tokens.device.approve(pending.userCode, USER.username);
  await exited(login, 'dockhand login --oauth');
  const first = await storedToken();
  plain(
    `token store ${storeFile}: refresh token ${fingerprint(first)} (valid: ${tokens.isRefreshTokenValid(first ?? '')})`,
  );

  tokens.resetLog();
  say(
    `$ dockhand --debug pull ${registry.host}/demo/app:1    (the daemon forwards the registry's challenge; the CLI answers it)`,
  );
  await run(['--debug', 'pull', `${registry.host}/demo/app:1`], env);
  const second = await storedToken();
  plain(
    `refresh token rotated and stored: ${fingerprint(first)} -> ${fingerprint(second)}; ` +
      `old one still valid: ${tokens.isRefreshTokenValid(first ?? '')}, new one valid: ${tokens.isRefreshTokenValid(second ?? '')}`,
  );

  say(`$ dockhand pull ${registry.host}/demo/tools:1    (a new process, a new scope: another refresh)`);
  await run(['pull', `${registry.host}/demo/tools:1`], env);
  const third = await storedToken();
  const counters = tokens.counters();
  plain(
    `refresh token rotated again: ${fingerprint(second)} -> ${fingerprint(third)}; token server: ` +
      `${counters.refreshes} refreshes, ${counters.reuseDetections} refresh-token reuse detected`,
  );
  say(`$ dockhand images`);
  await run(['images'], env);
  if (counters.reuseDetections !== 0 || !tokens.isRefreshTokenValid(third ?? '')) {
    throw new Error('the token server saw a refresh token reused, or the stored one is not the newest');
  }
}

async function run(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(process.execPath, [DOCKHAND, ...args], { env, stdio: 'inherit' });
  await exited(child, `dockhand ${args.join(' ')}`);
}

async function exited(child: ChildProcess, what: string): Promise<void> {
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${what} exited ${code}`);
}

function readUntil(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (pattern.test(text)) {
        child.stdout?.off('data', onData);
        resolve(text);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code} before ${pattern}: ${text}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

async function cleanup(): Promise<void> {
  for (const step of cleanups.reverse()) await step().catch(() => {});
}

process.once('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});

try {
  await main();
  say('Done: cleaning up (daemon, registry, token server, temp files)');
  await cleanup();
  plain(`demo finished in ${seconds()} s`);
} catch (err) {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await cleanup();
  process.exitCode = 1;
}
