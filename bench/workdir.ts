// One temp folder for everything a bench run writes (data roots, curl and skopeo outputs), so every output sits on
// the same disk and one rm cleans up. Registered with the rig: removed on exit even after an error.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackTempDir } from '../test/rig/processes.ts';

export interface WorkDir {
  path: string;
  /** A fresh empty folder under the work dir (removed first if it exists). */
  fresh(name: string): Promise<string>;
  remove(): Promise<void>;
}

export async function createWorkDir(): Promise<WorkDir> {
  const path = await mkdtemp(join(tmpdir(), 'dockhand-bench-'));
  const untrack = trackTempDir(path);
  return {
    path,
    async fresh(name) {
      const dir = join(path, name);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      return dir;
    },
    async remove() {
      await rm(path, { recursive: true, force: true });
      untrack();
    },
  };
}
