// The daemon as a process: `dockhand daemon` flags and help, readiness on GET /_ping, and SIGTERM / SIGINT shutdowns
// that cancel running jobs, exit 0 and remove the socket.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkedResponse, engineRequest, openEngineStream, readBody } from '../../helpers/openapi-check.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'cli', 'dockhand.js');
const FIXTURE = fileURLToPath(new URL('./fixtures/fake-engine-daemon.ts', import.meta.url));

const children = new Set<ChildProcess>();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dh-proc-'));
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs node with `args`; cwd is the project root so `--import tsx` resolves. */
function run(args: string[]): Started {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: process.env });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForPing(socket: string, started: Started): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) throw new Error(`daemon exited early:\n${started.output()}`);
    try {
      if ((await engineRequest(socket, { path: '/_ping' })).body === 'OK') return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`daemon not ready:\n${started.output()}`);
}

describe('dockhand daemon (the CLI)', () => {
  it('prints its flags with --help and exits 0', async () => {
    const p = run([CLI, 'daemon', '--help']);
    expect(await p.exited).toBe(0);
    for (const flag of [
      '--host',
      '--data-root',
      '--insecure-registry',
      '--registry-mirror',
      '--max-concurrent-downloads',
      '--log-level',
      '--config',
    ]) {
      expect(p.output()).toContain(flag);
    }
  });

  it('refuses a bad flag with exit 2 and a one-line message naming it', async () => {
    const p = run([CLI, 'daemon', '-H', 'tcp://0.0.0.0:2375']);
    expect(await p.exited).toBe(2);
    expect(p.output()).toBe(
      'dockhand: --host: "tcp://0.0.0.0:2375" is not a loopback address; tcp is only allowed on 127.0.0.1, ::1 or localhost\n',
    );
  });

  it('serves on -H with the real engine until SIGTERM, then exits 0 and removes the socket', async () => {
    const socket = join(dir, 'cli.sock');
    const p = run([
      CLI,
      'daemon',
      '-H',
      `unix://${socket}`,
      '--data-root',
      join(dir, 'data'),
      '--log-level',
      'warn',
    ]);
    await waitForPing(socket, p);
    expect((await stat(socket)).mode & 0o777).toBe(0o660);
    const images = await engineRequest(socket, { path: '/v1.41/images/json' });
    expect(images.json()).toEqual([]);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    await expect(stat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('the daemon process', () => {
  it('runs every thread but its API loop 10 nice steps lower, from before it answers', async () => {
    const socket = join(dir, 'nice.sock');
    const p = run([CLI, 'daemon', '-H', `unix://${socket}`, '--data-root', join(dir, 'nice-data')]);
    await waitForPing(socket, p);
    const pid = p.child.pid as number;
    const niceOf = async (tid: string) => {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Field 19, counted after the command name (which may hold spaces) and its parenthesis.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const tasks = (await readdir(`/proc/${pid}/task`)).filter((tid) => tid !== String(pid));
    // libuv's pool (4) and V8's helpers at least.
    expect(tasks.length).toBeGreaterThanOrEqual(4);
    expect(await niceOf(String(pid))).toBe(getPriority());
    for (const tid of tasks) expect(await niceOf(tid)).toBe(Math.min(19, getPriority() + 10));
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});

describe('shutdown with a job running', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} aborts the running pull, ends its stream, closes the engine and exits 0`, async () => {
      const socket = join(dir, `${signal}.sock`);
      const p = run(['--import', 'tsx', FIXTURE, socket]);
      await waitForPing(socket, p);
      const req = { method: 'POST', path: '/images/create?fromImage=a&tag=1' };
      const res = await openEngineStream(socket, req);
      const first = await new Promise<string>((resolve) =>
        res.once('data', (c: Buffer) => resolve(c.toString())),
      );
      expect(JSON.parse(first)).toEqual({ status: 'Pulling from small', id: '1' });
      const rest = readBody(res);
      p.child.kill(signal);
      const lines = checkedResponse(req, res, await rest).lines();
      expect(lines).toEqual([
        { errorDetail: { message: 'the daemon is shutting down' }, error: 'the daemon is shutting down' },
      ]);
      expect(await p.exited).toBe(0);
      expect(p.output()).toContain('job aborted');
      expect(p.output()).toContain('engine closed');
      await expect(stat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  }
});
