// Runs a TypeScript script in its own Node process (`node --import tsx`), for tests that need several real
// processes at once (cross-process locks). Kill what you start: `kill()` is by PID and safe to call twice.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

export interface TsxProcess {
  readonly pid: number;
  /** Resolves once the script has printed `line` as a whole line on stdout. */
  untilLine(line: string): Promise<void>;
  /** Writes to the script's stdin. */
  write(text: string): void;
  /** stdout when the script exits 0; rejects with the exit code and stderr otherwise. */
  readonly done: Promise<string>;
  kill(): void;
}

export function startTsx(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): TsxProcess {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--import', 'tsx', script, ...args],
    {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  const waiters: { line: string; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    const lines = out.split('\n');
    for (const waiter of waiters.splice(0)) {
      if (lines.includes(waiter.line)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${script} exited ${code ?? signal}: ${err.slice(0, 4000)}`));
    });
  });
  // A process killed in cleanup rejects `done` with nobody left to listen.
  done.catch(() => {});
  return {
    pid: child.pid ?? -1,
    untilLine(line) {
      if (out.split('\n').includes(line)) return Promise.resolve();
      // An early exit rejects instead of leaving the wait hanging.
      return Promise.race([
        new Promise<void>((resolve) => waiters.push({ line, resolve })),
        done.then(() => {
          throw new Error(`${script} exited before printing "${line}"`);
        }),
      ]);
    },
    write(text) {
      child.stdin.write(text);
    },
    done,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
