// Runs the real docker CLI against a daemon socket, with its own DOCKER_CONFIG so the machine's is untouched.

import { execFile } from 'node:child_process';
import { which } from '../rig/packages.ts';

/** The docker CLI: $DOCKHAND_DOCKER_CLI, else `docker` on PATH (the tests need it; they fail loudly without it). */
export const DOCKER = which(process.env.DOCKHAND_DOCKER_CLI ?? 'docker') ?? 'docker';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function docker(
  socket: string,
  configDir: string,
  args: string[],
  input?: string,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      DOCKER,
      args,
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: configDir,
          DOCKER_HOST: `unix://${socket}`,
          DOCKER_CONFIG: configDir,
        },
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}
