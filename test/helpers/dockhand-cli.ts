// Runs the `dockhand` CLI as users do (`node cli/dockhand.js …`, the package's bin) in an environment of the test's
// own: DOCKER_HOST for the test daemon, DOCKER_CONFIG and XDG_CONFIG_HOME (the token store) under a temp dir.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DOCKHAND_BIN = fileURLToPath(new URL('../../cli/dockhand.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliHome {
  env: NodeJS.ProcessEnv;
  dockerConfigDir: string;
  tokenStorePath: string;
}

/** The environment of a CLI user whose files live under `dir` and whose daemon listens on `socket`. */
export function cliHome(dir: string, socket: string, extra: NodeJS.ProcessEnv = {}): CliHome {
  const dockerConfigDir = path.join(dir, 'docker');
  const configHome = path.join(dir, 'config');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DOCKER_HOST: `unix://${socket}`,
    DOCKER_CONFIG: dockerConfigDir,
    XDG_CONFIG_HOME: configHome,
    ...extra,
  };
  delete env['DOCKHAND_TOKEN_STORE'];
  return { env, dockerConfigDir, tokenStorePath: path.join(configHome, 'dockhand', 'tokens.json') };
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** stdout so far. */
  stdout(): string;
  /** Resolves once stdout matches. */
  untilStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<CliResult>;
}

export function startDockhand(args: string[], env: NodeJS.ProcessEnv, input?: string): RunningCli {
  const child = spawn(process.execPath, [DOCKHAND_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const watcher of watchers) watcher();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin.end(input ?? '');
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    stdout: () => stdout,
    untilStdout(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stdout);
          if (match === null) return;
          cleanup();
          resolve(match);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`dockhand ${args.join(' ')}: no ${pattern} on stdout in time: ${stdout}${stderr}`),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        void done.then(() => {
          if (watchers.has(check)) {
            cleanup();
            reject(new Error(`dockhand ${args.join(' ')} exited before ${pattern}: ${stdout}${stderr}`));
          }
        });
        check();
      });
    },
    done,
  };
}

export function runDockhand(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return startDockhand(args, env, input).done;
}
