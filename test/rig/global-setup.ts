// Runs once before the suite: makes sure the real components the tests drive are installed, and clears temp dirs
// left by rig processes that died without cleaning up, and builds what changed (tests start the built CLI).
import { ensureBuilt } from './build.ts';
import { ensureTools } from './packages.ts';
import { sweepStaleTempDirs } from './processes.ts';

export default async function setup(): Promise<void> {
  ensureTools();
  sweepStaleTempDirs();
  ensureBuilt();
}
