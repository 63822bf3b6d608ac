// Replaces a file so that readers see the old or the new content, never a mix: temp file, fsync, rename.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Writes `data` to `target` atomically with exactly `mode`; a symlinked target is followed, as docker does. */
export async function writeFileAtomic(target: string, data: string, mode: number): Promise<void> {
  const real = await fs.realpath(target).catch(() => target);
  const dir = path.dirname(real);
  const temp = path.join(dir, `.${path.basename(real)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', mode);
  try {
    try {
      await handle.writeFile(data, 'utf8');
      // open() applied the umask; the file must end up with the mode asked for, no more and no less.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, real);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable; some filesystems refuse to fsync a directory, which only costs durability.
  const handle = await fs.open(dir, 'r').catch(() => undefined);
  if (handle === undefined) return;
  try {
    await handle.sync();
  } catch {
    // See above.
  } finally {
    await handle.close();
  }
}
