// The command line's edges, in process: usage errors exit 2 with docker's wording, --help exits 0, global options
// are read before or after the command, and an unreachable daemon is one line naming it and exit 1.

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CommandIO } from '../../../cli/command.ts';
import { runCli } from '../../../cli/run.ts';

function fakeIO(env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => append(chunk.toString('utf8')));
    return stream;
  };
  const io: CommandIO = {
    stdout: sink((t) => {
      stdout += t;
    }),
    stderr: sink((t) => {
      stderr += t;
    }),
    stdin: new PassThrough(),
    env: { HOME: '/nonexistent', ...env },
  };
  return { io, out: () => stdout, err: () => stderr };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('runCli', () => {
  it('lists the commands with --help (exit 0), and without a command (exit 2)', async () => {
    const help = fakeIO();
    expect(await runCli(['--help'], help.io)).toBe(0);
    await settle();
    for (const name of [
      'pull',
      'push',
      'images',
      'image inspect',
      'image prune',
      'rmi',
      'tag',
      'login',
      'logout',
    ]) {
      expect(help.out()).toContain(`\n  ${name} `);
    }
    expect(await runCli([], fakeIO().io)).toBe(2);
  });

  it('refuses an unknown command, an unknown flag and a missing argument with exit 2', async () => {
    const unknown = fakeIO();
    expect(await runCli(['frobnicate'], unknown.io)).toBe(2);
    await settle();
    expect(unknown.err()).toBe("dockhand: 'frobnicate' is not a dockhand command.\nSee 'dockhand --help'\n");
    const flag = fakeIO();
    expect(await runCli(['pull', '--nope', 'x'], flag.io)).toBe(2);
    await settle();
    expect(flag.err()).toMatch(/^dockhand pull: Unknown option '--nope'/);
    const missing = fakeIO();
    expect(await runCli(['pull'], missing.io)).toBe(2);
    await settle();
    expect(missing.err()).toContain('dockhand pull: requires exactly 1 argument');
    const stdin = fakeIO();
    expect(await runCli(['login', '--password-stdin', 'r.example'], stdin.io)).toBe(2);
    await settle();
    expect(stdin.err()).toBe('dockhand: Must provide --username with --password-stdin\n');
  });

  it('names the daemon it could not reach, from -H before or after the command, in one line (exit 1)', async () => {
    for (const argv of [
      ['-H', 'unix:///nonexistent/dockhand.sock', 'images'],
      ['images', '--host', 'unix:///nonexistent/dockhand.sock'],
    ]) {
      const run = fakeIO({ DOCKER_HOST: 'unix:///elsewhere.sock' });
      expect(await runCli(argv, run.io)).toBe(1);
      await settle();
      expect(run.err()).toBe(
        'dockhand: Cannot connect to the Dockhand daemon at unix:///nonexistent/dockhand.sock. Is the daemon running? Start it with: npx dockhand daemon\n',
      );
    }
  });
});
