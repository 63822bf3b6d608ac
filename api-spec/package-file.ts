// Files shipped beside package.json (package.json itself, openapi.yaml), for the daemon and the SDK. Both run from
// the build output (dist/, one folder deeper than the sources) and the tests run the sources: the root is found by
// walking up.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function packageRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = parent;
  }
  return dir;
}

const ROOT = packageRoot();

/** The absolute path of `name`, relative to the package root. */
export function packageFile(name: string): string {
  return join(ROOT, name);
}
