// A network namespace of the test's own, as root: only loopback, with extra addresses put on it, so a test can
// point the daemon at "remote" addresses (cloud metadata, a private network) that are in fact local to the
// namespace. Nothing sent there leaves the machine. Torn down by remove().

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ensureTools, type Tool, which } from '../rig/packages.ts';

const IPROUTE: Tool = { name: 'ip (iproute2)', pkg: 'iproute2', present: () => which('ip') !== undefined };

export interface Netns {
  name: string;
  /** Starts a command inside the namespace. */
  spawn(command: string, args: string[], options?: { cwd?: string }): ChildProcess;
  remove(): void;
}

export function createNetns(addresses: string[]): Netns {
  if (process.getuid?.() !== 0) throw new Error('network namespace tests must run as root (CI runs as root)');
  ensureTools([IPROUTE]);
  const name = `dockhand-${randomBytes(4).toString('hex')}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  ip('netns', 'add', name);
  try {
    ip('-n', name, 'link', 'set', 'lo', 'up');
    for (const address of addresses) ip('-n', name, 'addr', 'add', `${address}/32`, 'dev', 'lo');
  } catch (err) {
    ip('netns', 'del', name);
    throw err;
  }
  return {
    name,
    spawn: (command, args, options = {}) =>
      spawn('ip', ['netns', 'exec', name, command, ...args], {
        stdio: ['pipe', 'pipe', 'inherit'],
        ...options,
      }),
    remove: () => ip('netns', 'del', name),
  };
}
