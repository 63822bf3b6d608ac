// A file shared between processes: reads are lock-free (writes are atomic renames), read-modify-write runs under
// `<path>.lock`. The lock is reentrant within one async call chain, so a store's set() inside its own withLock()
// does not wait for itself.

import { AsyncLocalStorage } from 'node:async_hooks';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../protocol/atomic-file.ts';
import { KeyedMutex } from '../../protocol/keyed-mutex.ts';
import { acquireLockFile, type LockFileOptions } from './lock-file.ts';

// Shared by every LockedFile of this process: two stores opened on one path still take turns in-process
// instead of polling the lock file against each other.
const processMutex = new KeyedMutex();
const heldLocks = new AsyncLocalStorage<ReadonlySet<string>>();

export class LockedFile {
  readonly path: string;
  readonly lockPath: string;
  readonly #lockOptions: LockFileOptions;

  constructor(filePath: string, lockOptions: LockFileOptions = {}) {
    this.path = path.resolve(filePath);
    this.lockPath = `${this.path}.lock`;
    this.#lockOptions = lockOptions;
  }

  /** The current content, or undefined when the file does not exist. */
  async read(): Promise<string | undefined> {
    try {
      return await fs.readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The mode of the existing file, for writers that keep it (docker does), else undefined. */
  async mode(): Promise<number | undefined> {
    try {
      return (await fs.stat(this.path)).mode & 0o777;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async write(data: string, mode: number): Promise<void> {
    await fs.mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path, data, mode);
  }

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    const held = heldLocks.getStore();
    if (held?.has(this.lockPath)) return fn();
    return processMutex.run(this.lockPath, async () => {
      await fs.mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 });
      const release = await acquireLockFile(this.lockPath, this.#lockOptions);
      try {
        return await heldLocks.run(new Set([...(held ?? []), this.lockPath]), fn);
      } finally {
        await release();
      }
    });
  }
}
