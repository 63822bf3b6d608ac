// Tests that start `cli/dockhand.js` run the build output in dist/, so the suite first brings dist/ up to date with
// the sources (the same `npm run build` that npm's `prepare` runs). A stamp written after each build makes the check
// a walk over file times when nothing changed.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const STAMP = join(ROOT, 'dist', '.built');
const SOURCES = ['api-spec', 'protocol', 'daemon', 'client', 'cli'];
const CONFIGS = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'openapi.yaml'];

function newestSource(): number {
  let newest = 0;
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const name of [...SOURCES, ...CONFIGS]) visit(join(ROOT, name));
  return newest;
}

function builtAt(): number {
  try {
    return statSync(STAMP).mtimeMs;
  } catch {
    return 0;
  }
}

export function ensureBuilt(): void {
  if (builtAt() > newestSource()) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}
