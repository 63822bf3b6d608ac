// The exit codes of `dockhand`, as the README documents them.

export const EXIT = {
  ok: 0,
  /** The operation failed (daemon, registry, credentials); stderr says what and what to do. */
  failed: 1,
  /** The command line is wrong (unknown command or flag, wrong number of arguments). */
  usage: 2,
  /** Interrupted by Ctrl-C (SIGINT); the operation was cancelled in the daemon too. */
  interrupted: 130,
} as const;
