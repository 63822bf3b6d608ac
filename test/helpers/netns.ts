// A network namespace of the test's own, as root: only loopback, with extra addresses put on it, so a test can
// point the daemon at "remote" addresses (cloud metadata, a private network) that are in fact local to the
// namespace. Nothing sent there leaves the machine. Names can be given addresses too: `ip netns exec` mounts
// /etc/netns/<name>/hosts over /etc/hosts for the commands it starts, so the system resolver answers them there.
// Torn down by remove(), which also deletes /etc/netns/<name>.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTools, type Tool, which } from '../rig/packages.ts';

const IPROUTE: Tool = { name: 'ip (iproute2)', pkg: 'iproute2', present: () => which('ip') !== undefined };

export interface Netns {
  name: string;
  /** Starts a command inside the namespace. */
  spawn(command: string, args: string[], options?: { cwd?: string }): ChildProcess;
  remove(): void;
}

/** `names` maps a DNS name to the address it resolves to inside the namespace. */
export function createNetns(addresses: string[], names: Record<string, string> = {}): Netns {
  if (process.getuid?.() !== 0) throw new Error('network namespace tests must run as root (CI runs as root)');
  ensureTools([IPROUTE]);
  const name = `dockhand-${randomBytes(4).toString('hex')}`;
  const etc = join('/etc/netns', name);
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  const remove = () => {
    rmSync(etc, { recursive: true, force: true });
    try {
      rmdirSync('/etc/netns');
    } catch {
      // Not empty: another namespace's files are there.
    }
    ip('netns', 'del', name);
  };
  ip('netns', 'add', name);
  try {
    ip('-n', name, 'link', 'set', 'lo', 'up');
    for (const address of addresses) ip('-n', name, 'addr', 'add', `${address}/32`, 'dev', 'lo');
    mkdirSync(etc, { recursive: true });
    const lines = Object.entries(names).map(([host, address]) => `${address} ${host}`);
    writeFileSync(join(etc, 'hosts'), ['127.0.0.1 localhost', '::1 localhost', ...lines, ''].join('\n'));
  } catch (err) {
    remove();
    throw err;
  }
  return {
    name,
    spawn: (command, args, options = {}) =>
      spawn('ip', ['netns', 'exec', name, command, ...args], {
        stdio: ['pipe', 'pipe', 'inherit'],
        ...options,
      }),
    remove,
  };
}
