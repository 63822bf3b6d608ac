// Crash-safe small files: a reader sees the old content or the new, never a torn write. The store's index.json and
// the client's token files are written this way.
import { randomBytes } from 'node:crypto';
import { chmod, open, realpath, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes to a temporary sibling with exactly `mode`, fsyncs it, renames it over `path` (a symlinked target is
 * followed, as docker does with config.json), then fsyncs the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const real = await realpath(path).catch(() => path);
  const dir = dirname(real);
  const temp = join(dir, `.${basename(real)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      await handle.writeFile(data);
      // open() applied the umask; the file must end up with the mode asked for, no more and no less.
      await chmod(temp, mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, real);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  await syncDirectory(dir).catch(() => {
    // Some filesystems refuse to fsync a directory, which only costs the rename's durability.
  });
}

/** Makes a rename or unlink in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** True for names writeFileAtomic leaves behind when the process dies mid-write. */
export function isAtomicTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}
