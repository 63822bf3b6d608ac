// `dockhand` command line: `dockhand daemon [flags]` runs the Engine API daemon in the foreground.
import { ConfigError, DAEMON_USAGE, parseDaemonArgs } from '../daemon/config.ts';
import { createImageService } from '../daemon/images/index.ts';
import { createLogger } from '../daemon/log.ts';
import { closeOnSignals, DaemonStartError, describeAddress, startDaemon } from '../daemon/main.ts';
import { DataRootLockedError } from '../daemon/store/index.ts';

const USAGE = `Usage: dockhand COMMAND

Commands:
  daemon    Run the image daemon (Docker Engine API subset) in the foreground

Run 'dockhand daemon --help' for its flags.
`;

/** Resolves with an exit code, or undefined once the daemon serves (the process then lives until a signal). */
async function runDaemon(argv: string[]): Promise<number | undefined> {
  const args = await parseDaemonArgs(argv);
  if (args.help) {
    process.stdout.write(DAEMON_USAGE);
    return 0;
  }
  const { config } = args;
  const logger = createLogger({ level: config.logLevel });
  const imageService = await createImageService(config, { certsDir: config.certsDir });
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(config, { imageService, logger });
  } catch (err) {
    await imageService.close();
    throw err;
  }
  closeOnSignals(daemon, () => imageService.close(), logger);
  logger.info({ hosts: daemon.sockets.map(describeAddress), dataRoot: config.dataRoot }, 'daemon ready');
  return undefined;
}

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'daemon':
      return runDaemon(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`dockhand: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

try {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
} catch (err) {
  // Expected start-up failures (bad flags, a data root in use, a socket taken) read as one line; bugs keep their stack.
  if (err instanceof ConfigError || err instanceof DaemonStartError || err instanceof DataRootLockedError) {
    process.stderr.write(`dockhand: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`dockhand: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
