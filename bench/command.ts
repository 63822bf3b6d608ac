// Runs an external program to completion (tracked by the rig, so it dies with the bench), failing with its stderr.
import { spawn } from 'node:child_process';
import { track } from '../test/rig/processes.ts';

const OUTPUT_LIMIT = 64 * 1024;

/** Runs `command` and gives its stdout (first 64 KiB). */
export async function run(
  command: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  await new Promise<void>((done, fail) => {
    child.once('spawn', done);
    child.once('error', fail);
  });
  // 'close' comes after 'exit', once both pipes are drained.
  const closed = new Promise<void>((done) => child.once('close', () => done()));
  const proc = track(command, child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (stdout.length < OUTPUT_LIMIT) stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < OUTPUT_LIMIT) stderr += chunk.toString('utf8');
  });
  await proc.exited;
  await closed;
  if (child.exitCode !== 0) {
    const how = child.exitCode === null ? `signal ${child.signalCode}` : `exit ${child.exitCode}`;
    throw new Error(`${command} ${args.join(' ')} failed (${how}): ${stderr.trim().slice(0, 4096)}`);
  }
  return stdout;
}

/** Flushes dirty pages, so one measurement does not pay for the writeback of the previous one. */
export async function syncDisks(): Promise<void> {
  await run('sync', []);
}
