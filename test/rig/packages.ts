// The rig drives real programs from Debian packages. This module knows which binary comes from which package,
// checks them quickly (a PATH lookup, one python import) and installs what is missing when we are root.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tool {
  /** What the rig needs, for messages. */
  name: string;
  /** Debian package providing it. */
  pkg: string;
  present(): boolean;
}

/**
 * Debian's interpreter, which python3-docker is installed for (a pyenv or venv python3 earlier on PATH would not
 * see it); DOCKHAND_PYTHON overrides it.
 */
export const PYTHON = process.env['DOCKHAND_PYTHON'] ?? '/usr/bin/python3';
const FIND_DOCKER = "import importlib.util, sys; sys.exit(importlib.util.find_spec('docker') is None)";

/** Absolute path of an executable found on PATH (or the given absolute path), else undefined. */
export function which(command: string): string | undefined {
  const candidates = command.includes('/')
    ? [command]
    : (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next directory
    }
  }
  return undefined;
}

export const REQUIRED_TOOLS: readonly Tool[] = [
  { name: 'docker-registry', pkg: 'docker-registry', present: () => which('docker-registry') !== undefined },
  { name: 'skopeo', pkg: 'skopeo', present: () => which('skopeo') !== undefined },
  { name: 'openssl', pkg: 'openssl', present: () => which('openssl') !== undefined },
  // The CLI's terminal output is tested under a real pseudo-terminal, read back from the screen.
  { name: 'tmux', pkg: 'tmux', present: () => which(process.env['TMUX_BIN'] ?? 'tmux') !== undefined },
  {
    name: `${PYTHON} with 'import docker'`,
    pkg: 'python3-docker',
    // find_spec locates the package without importing it: ~0.1 s instead of ~1 s for `import docker`.
    present: () =>
      which(PYTHON) !== undefined && spawnSync(PYTHON, ['-c', FIND_DOCKER], { stdio: 'ignore' }).status === 0,
  },
];

export function missingTools(tools: readonly Tool[] = REQUIRED_TOOLS): Tool[] {
  return tools.filter((tool) => !tool.present());
}

export function installCommand(pkgs: readonly string[]): string {
  return `apt-get update && apt-get install -y --no-install-recommends ${[...new Set(pkgs)].join(' ')}`;
}

/**
 * Makes sure every tool is there. Missing ones are installed with apt-get when running as root; otherwise this
 * throws with the exact command to run.
 */
export function ensureTools(tools: readonly Tool[] = REQUIRED_TOOLS): void {
  const missing = missingTools(tools);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((tool) => tool.pkg))];
  const names = missing.map((tool) => tool.name).join(', ');
  if (process.getuid?.() !== 0) {
    throw new Error(`test rig: missing ${names}. Install them as root with:\n  ${installCommand(pkgs)}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
  const still = missingTools(tools);
  if (still.length > 0) {
    throw new Error(
      `test rig: still missing after apt-get install: ${still.map((tool) => tool.name).join(', ')}`,
    );
  }
}
