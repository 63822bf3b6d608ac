// Every external process the rig starts is registered here, so a failing test, a thrown error or a killed
// test worker never leaves a registry running. Three layers of protection:
//   1. stop()/stopAll(): SIGTERM, then SIGKILL after a grace period, always by PID.
//   2. a process 'exit' hook that SIGKILLs whatever is still tracked (covers uncaught errors, process.exit()).
//   3. a tiny `sh` watchdog holding our PIDs on its stdin: when this process dies without running hooks
//      (SIGKILL, OOM), the pipe closes and the watchdog kills the PIDs it still holds.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TrackedProcess {
  readonly pid: number;
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (immediately if it already has). */
  readonly exited: Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

const tracked = new Map<number, TrackedProcess>();
let watchdog: ChildProcess | undefined;

// Reads "+PID" / "-PID" lines; on EOF (our death) kills what is left. PIDs are removed when we stop them so a
// recycled PID is never hit.
const WATCHDOG_SCRIPT = `pids=" "
while IFS= read -r line; do
  case "$line" in
    +*) pids="$pids\${line#+} " ;;
    -*) pids=$(printf '%s' "$pids" | sed "s/ \${line#-} / /") ;;
  esac
done
for p in $pids; do kill -9 "$p" 2>/dev/null; done`;

function tellWatchdog(line: string): void {
  if (!watchdog) {
    watchdog = spawn('sh', ['-c', WATCHDOG_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.on('error', () => {
      watchdog = undefined;
    });
    watchdog.unref();
    (watchdog.stdin as Socket | null)?.unref();
    watchdog.stdin?.on('error', () => {});
  }
  watchdog.stdin?.write(`${line}\n`);
}

const tempDirs = new Set<string>();

process.once('exit', () => {
  for (const p of tracked.values()) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const OWNER_FILE = '.rig-owner';

/**
 * A temp dir removed when this process exits, unless untracked (the returned function) earlier. The dir gets an
 * owner file with our PID so sweepStaleTempDirs() can remove it if we die too hard to run the exit hook.
 */
export function trackTempDir(dir: string): () => void {
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  tempDirs.add(dir);
  return () => tempDirs.delete(dir);
}

/** Removes rig temp dirs (under `parent`, named `dockhand-rig-*`) whose owner process is gone. */
export function sweepStaleTempDirs(parent = tmpdir()): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    if (!name.startsWith('dockhand-rig-')) continue;
    const dir = join(parent, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue;
    }
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}

/** Registers a freshly spawned child; its PID is killed on stop(), stopAll() or when this process exits. */
export function track(name: string, child: ChildProcess): TrackedProcess {
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: spawn failed (no PID)`);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const proc: TrackedProcess = {
    pid,
    name,
    child,
    exited,
    async stop(graceMs = 3000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      forget(pid);
    },
  };
  tracked.set(pid, proc);
  tellWatchdog(`+${pid}`);
  void exited.then(() => forget(pid));
  return proc;
}

/** A tracked child whose stdout and stderr are kept, last `logLimit` characters, for error messages. */
export interface LoggedProcess {
  proc: TrackedProcess;
  logs(): string;
}

/** Spawns `command` (stdin closed, output captured) and tracks it once it has started. */
export async function spawnTracked(
  name: string,
  command: string,
  args: readonly string[],
  logLimit: number,
): Promise<LoggedProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const proc = track(name, child);
  let log = '';
  const append = (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.length > logLimit) log = log.slice(log.length - logLimit);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return { proc, logs: () => log };
}

function forget(pid: number): void {
  if (tracked.delete(pid)) tellWatchdog(`-${pid}`);
}

/** PIDs of rig processes still running in this process. */
export function trackedPids(): number[] {
  return [...tracked.keys()];
}

const services = new Set<() => Promise<void>>();

/**
 * Registers an in-process server (front, token server) so stopAll() closes it too; returns its stop function,
 * which unregisters it. Registering twice stops twice, so wrap each server once.
 */
export function trackService(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const once = () => {
    stopping ??= (async () => {
      services.delete(once);
      await stop();
    })();
    return stopping;
  };
  services.add(once);
  return once;
}

/** Stops every server and process the rig started from this process. */
export async function stopAll(): Promise<void> {
  await Promise.all([...services].map((stop) => stop()));
  await Promise.all([...tracked.values()].map((p) => p.stop()));
}

/** True when a process with that PID exists and is not a zombie (a killed child whose parent has not reaped it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) STATE ..."; comm may hold spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
