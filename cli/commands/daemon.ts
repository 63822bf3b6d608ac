// `dockhand daemon [flags]`: the Engine API daemon in the foreground, the one command that imports daemon/.
// Once it listens it says where, with the DOCKER_HOST line to copy into another shell.

// First: the heap settings must be in place before the daemon's modules load.
import '../daemon-heap.ts';
import { ConfigError, DAEMON_USAGE, parseDaemonArgs } from '../../daemon/config.ts';
import { createImageService } from '../../daemon/images/index.ts';
import { createLogger } from '../../daemon/log.ts';
import { closeOnSignals, DaemonStartError, describeAddress, startDaemon } from '../../daemon/main.ts';
import { DataRootLockedError } from '../../daemon/store/index.ts';
import { lowerHelperThreads } from '../../daemon/thread-priority.ts';
import { defineCommand } from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { CliError } from '../failures.ts';

export default defineCommand({
  usage: 'dockhand daemon [OPTIONS]',
  description: 'Run the image daemon (Docker Engine API subset) in the foreground',
  options: {},
  args: { min: 0 },
  raw: true,
  async run(context, _flags, argv) {
    try {
      return await serve(argv, context.io.stdout);
    } catch (err) {
      // Expected start-up failures (bad flags, a data root in use, a socket taken) are usage-like: exit 2.
      if (
        err instanceof ConfigError ||
        err instanceof DaemonStartError ||
        err instanceof DataRootLockedError
      ) {
        throw new CliError(err.message, EXIT.usage, { cause: err });
      }
      throw err;
    }
  },
});

/** Resolves with an exit code, or undefined once the daemon serves (the process then lives until a signal). */
async function serve(argv: string[], out: NodeJS.WritableStream): Promise<number | undefined> {
  const args = await parseDaemonArgs(argv);
  if (args.help) {
    out.write(DAEMON_USAGE);
    return EXIT.ok;
  }
  // Before it listens: once it answers, its API loop already goes first.
  await lowerHelperThreads();
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
  const hosts = daemon.sockets.map(describeAddress);
  logger.info({ hosts, dataRoot: config.dataRoot }, 'daemon ready');
  const unix = hosts.find((host) => host.startsWith('unix://')) ?? hosts[0];
  out.write(
    `\nDockhand daemon listening on ${hosts.join(', ')} (data root ${config.dataRoot})\n` +
      'In another shell, point the docker CLI or dockhand at it with:\n\n' +
      `export DOCKER_HOST=${unix}\n\n`,
  );
  return undefined;
}
