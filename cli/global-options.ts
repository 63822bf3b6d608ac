// The options every command takes, before or after the command name, as docker's: where the daemon listens
// (-H / DOCKER_HOST), where docker's config.json lives (--config / DOCKER_CONFIG), and --debug for stack traces.

import type { ParseArgsOptionsConfig } from './command.ts';

export interface GlobalOptions {
  /** `unix:///path` or `tcp://127.0.0.1:PORT`; undefined: DOCKER_HOST, else the daemon's default socket. */
  host: string | undefined;
  /** docker's config directory; undefined: DOCKER_CONFIG, else ~/.docker. */
  configDir: string | undefined;
  debug: boolean;
}

export const GLOBAL_OPTIONS = {
  host: { type: 'string', short: 'H' },
  config: { type: 'string' },
  debug: { type: 'boolean', short: 'D' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

export const GLOBAL_HELP = [
  "  -H, --host string     Daemon socket to connect to (default $DOCKER_HOST, else the daemon's default socket)",
  '      --config string   Location of client config files (default $DOCKER_CONFIG, else ~/.docker)',
  '  -D, --debug           Show stack traces of errors',
  '  -h, --help            Print usage',
];

export function readGlobals(
  values: { host?: string; config?: string; debug?: boolean },
  env: NodeJS.ProcessEnv,
): GlobalOptions {
  return {
    host: values.host ?? (env['DOCKER_HOST'] || undefined),
    configDir: values.config ?? (env['DOCKER_CONFIG'] || undefined),
    debug: values.debug ?? false,
  };
}
