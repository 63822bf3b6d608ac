// A real pseudo-terminal for CLI tests: a tmux server of the test's own (its own socket name), one session running
// one command, the screen read back with capture-pane and keys sent with send-keys. tmux comes from PATH, or
// TMUX_BIN; the rig's package check installs it.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TMUX = process.env['TMUX_BIN'] ?? 'tmux';

export interface TmuxSession {
  /** The visible screen, one string per line, trailing blanks trimmed. */
  screen(): Promise<string>;
  /** Resolves with the screen once it matches `pattern` (polled every 50 ms). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  sendKeys(...keys: string[]): Promise<void>;
  kill(): Promise<void>;
}

let sessions = 0;

/**
 * Runs `argv` under a `width`×`height` terminal with `env`; when it ends the shell prints `[exit N]` and the
 * pane stays, so the screen can still be read.
 */
export async function startTmux(
  argv: string[],
  env: NodeJS.ProcessEnv,
  size = { width: 120, height: 30 },
): Promise<TmuxSession> {
  const socket = `dockhand-test-${process.pid}-${++sessions}`;
  const quoted = argv.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const command = `${quoted}; echo "[exit $?]"; sleep 600`;
  const tmux = (...args: string[]) => run(TMUX, ['-L', socket, '-f', '/dev/null', ...args], { env });
  await tmux('new-session', '-d', '-s', 'cli', '-x', String(size.width), '-y', String(size.height), command);
  const session: TmuxSession = {
    async screen() {
      const { stdout } = await tmux('capture-pane', '-p', '-t', 'cli');
      return stdout
        .split('\n')
        .map((line) => line.trimEnd())
        .join('\n')
        .trimEnd();
    },
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = await session.screen();
        if (pattern.test(text)) return text;
        if (Date.now() > deadline) throw new Error(`tmux screen never matched ${pattern}:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async sendKeys(...keys) {
      await tmux('send-keys', '-t', 'cli', ...keys);
    },
    async kill() {
      await tmux('kill-server').catch(() => {});
    },
  };
  return session;
}
