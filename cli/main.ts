// The process around the command line: real streams and environment in, an exit code out.

import { runCli } from './run.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  // Made on first use: opening stdin costs start-up time, and only login and prompts read it.
  get stdin() {
    return process.stdin;
  },
  env: process.env,
});
