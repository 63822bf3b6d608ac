// A cross-process lock: a file created with O_EXCL (`open wx`) beside the data it guards.
// A holder that died leaves the file behind; it is taken as stale when its PID (same machine) is gone, or when
// it has not been touched for `staleMs` (the live holder touches it while it works), and then removed.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockTimeoutError } from '../errors.ts';

export interface LockFileOptions {
  /** How long to wait for another holder before giving up (LockTimeoutError). */
  waitMs?: number;
  /** A lock untouched for this long is stale, whoever holds it. */
  staleMs?: number;
  /** Upper bound of the sleep between attempts (a random part avoids lockstep). */
  pollMs?: number;
}

interface LockOwner {
  pid: number;
  hostname: string;
  nonce: string;
}

export type ReleaseLock = () => Promise<void>;

export async function acquireLockFile(lockPath: string, options: LockFileOptions = {}): Promise<ReleaseLock> {
  const waitMs = options.waitMs ?? 15_000;
  const staleMs = options.staleMs ?? 30_000;
  const pollMs = options.pollMs ?? 40;
  const owner: LockOwner = {
    pid: process.pid,
    hostname: os.hostname(),
    nonce: randomBytes(8).toString('hex'),
  };
  const started = Date.now();
  for (;;) {
    if (await tryCreate(lockPath, owner)) return holdLock(lockPath, owner, staleMs);
    if (await isStale(lockPath, staleMs)) {
      await removeStale(lockPath, staleMs);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= waitMs) throw new LockTimeoutError(lockPath, waited);
    await sleep(Math.max(5, Math.floor(pollMs / 2 + Math.random() * (pollMs / 2))));
  }
}

async function tryCreate(lockPath: string, owner: LockOwner): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(lockPath, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
  } finally {
    await handle.close();
  }
  return true;
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, { mtimeMs }] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
  } catch (err) {
    // Released between our attempt and this look: not stale, just free.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (Date.now() - mtimeMs > staleMs) return true;
  const holder = parseOwner(text);
  // An empty or partial file is a holder between open and write: only age can make it stale.
  if (holder === undefined || holder.hostname !== os.hostname()) return false;
  return !isProcessAlive(holder.pid);
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (
      typeof value.pid === 'number' &&
      typeof value.hostname === 'string' &&
      typeof value.nonce === 'string'
    ) {
      return value as LockOwner;
    }
  } catch {
    // Not (yet) a complete owner record.
  }
  return undefined;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function removeStale(lockPath: string, staleMs: number): Promise<void> {
  // Renaming first means two waiters that both judged the lock stale cannot both delete it: one rename wins,
  // the other gets ENOENT and simply tries to create the lock again.
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  // Between our look and the rename another waiter may have replaced the stale file with its own live lock:
  // put that one back (link fails rather than overwrite if the name was taken again meanwhile).
  if (!(await isStale(aside, staleMs))) await fs.link(aside, lockPath).catch(() => {});
  await fs.rm(aside, { force: true });
}

function holdLock(lockPath: string, owner: LockOwner, staleMs: number): ReleaseLock {
  // Touch the file while held so a long refresh is not mistaken for a dead holder.
  const heartbeat = setInterval(
    () => {
      const now = new Date();
      fs.utimes(lockPath, now, now).catch(() => {});
    },
    Math.max(50, Math.floor(staleMs / 3)),
  );
  heartbeat.unref();
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    // Only remove the file if it is still ours (it may have been judged stale and taken over meanwhile).
    try {
      const current = parseOwner(await fs.readFile(lockPath, 'utf8'));
      if (current?.nonce === owner.nonce) await fs.rm(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  };
}
