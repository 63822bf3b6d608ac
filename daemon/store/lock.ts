// One daemon per data root: `<root>/dockhand.lock` is created exclusively and holds the owner's PID. A lock whose
// PID is dead (or is our own PID without this process holding it: a restarted container's PID 1) is stale.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataRootLockedError } from './errors.ts';

export interface DataRootLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

// Lock files this process holds: tells "our PID, our lock" from "our PID, a previous incarnation's lock".
const heldHere = new Set<string>();

// A lock file with no PID yet is being written by its creator; after this long it was abandoned mid-write.
const UNWRITTEN_GRACE_MS = 2_000;
const MAX_ATTEMPTS = 50;

export async function lockDataRoot(dataRoot: string): Promise<DataRootLock> {
  const root = resolve(dataRoot);
  const path = join(root, 'dockhand.lock');
  await mkdir(root, { recursive: true });
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await tryCreate(path)) {
      heldHere.add(path);
      return { path, release: () => release(path) };
    }
    const seen = await readLock(path);
    if (seen === undefined) continue; // removed meanwhile: try again
    const pid = parsePid(seen.content);
    if (pid === undefined) {
      if (Date.now() - seen.mtimeMs < UNWRITTEN_GRACE_MS) {
        await sleep(50);
        continue;
      }
    } else if (isOwnedByLiveProcess(pid, path)) {
      throw new DataRootLockedError(root, pid);
    }
    await takeOverStale(path, seen.content);
  }
  throw new Error(`could not take ${path}: it kept changing under us`);
}

async function tryCreate(path: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

async function readLock(path: string): Promise<{ content: string; mtimeMs: number } | undefined> {
  try {
    const [content, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { content, mtimeMs: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parsePid(content: string): number | undefined {
  const text = content.trim();
  if (!/^[1-9][0-9]{0,9}$/.test(text)) return undefined;
  return Number(text);
}

function isOwnedByLiveProcess(pid: number, path: string): boolean {
  if (pid === process.pid) return heldHere.has(path);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

// Moves the stale file aside before deleting it, so that two processes breaking the same stale lock cannot delete
// the fresh lock one of them just created: if the file we moved is not the one we judged, we put it back.
async function takeOverStale(path: string, judged: string): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readFile(aside, 'utf8');
  if (moved !== judged) {
    await link(aside, path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
  await unlink(aside);
}

async function release(path: string): Promise<void> {
  if (!heldHere.delete(path)) return;
  const seen = await readLock(path);
  if (seen && parsePid(seen.content) === process.pid) await unlink(path);
}
