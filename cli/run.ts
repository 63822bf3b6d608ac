// `dockhand [OPTIONS] COMMAND [ARGS]`: finds the command in the table, parses its flags with the global ones,
// runs it with a shared context, and turns failures into one line on stderr and an exit code (exit-codes.ts).
// Only what every command needs is imported here; the SDK and the command modules load on demand.
// Ctrl-C is caught only once a command asks for the signal (the daemon handles its own signals): the first
// aborts the operation, which then ends with exit 130; a second exits at once.

import { parseArgs } from 'node:util';
import type { EngineClient } from '../client/index.ts';
import type { Command, CommandContext, CommandIO } from './command.ts';
import { findCommand, usageText } from './commands.ts';
import { EXIT } from './exit-codes.ts';
import { GLOBAL_HELP, GLOBAL_OPTIONS, type GlobalOptions, readGlobals } from './global-options.ts';

/** Splits the global options written before the command from the command and its arguments. */
function splitGlobals(argv: string[]): { before: string[]; rest: string[] } {
  const { tokens } = parseArgs({
    args: argv,
    options: GLOBAL_OPTIONS,
    strict: false,
    tokens: true,
    allowPositionals: true,
  });
  const first = tokens.find((token) => token.kind === 'positional');
  if (first === undefined) return { before: argv, rest: [] };
  return { before: argv.slice(0, first.index), rest: argv.slice(first.index) };
}

export function commandHelp(command: Command): string {
  const options = [...(command.optionHelp ?? []), ...GLOBAL_HELP];
  return `Usage:  ${command.usage}\n\n${command.description}\n\nOptions:\n${options.join('\n')}\n`;
}

export async function runCli(argv: string[], io: CommandIO): Promise<number> {
  const { before, rest } = splitGlobals(argv);
  let early: { values: { host?: string; config?: string; debug?: boolean; help?: boolean } };
  try {
    early = parseArgs({ args: before, options: GLOBAL_OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    io.stderr.write(`dockhand: ${(err as Error).message}\nSee 'dockhand --help'.\n`);
    return EXIT.usage;
  }
  const found = findCommand(rest);
  if (found === undefined) {
    if (rest.length === 0) {
      io.stdout.write(usageText());
      return early.values.help ? EXIT.ok : EXIT.usage;
    }
    io.stderr.write(`dockhand: '${rest.join(' ')}' is not a dockhand command.\nSee 'dockhand --help'\n`);
    return EXIT.usage;
  }
  const command = (await found.entry.load()).default;
  const commandArgs = rest.slice(found.words);
  if (command.raw) {
    const globals = readGlobals(early.values, io.env);
    const context = createContext(globals, io);
    try {
      return (await command.run(context, {} as never, commandArgs)) ?? EXIT.ok;
    } catch (err) {
      return report(err, globals, io, context.aborted());
    }
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: commandArgs,
      options: { ...GLOBAL_OPTIONS, ...command.options },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    io.stderr.write(
      `dockhand ${found.name}: ${(err as Error).message}\nSee 'dockhand ${found.name} --help'.\n`,
    );
    return EXIT.usage;
  }
  if (parsed.values['help'] === true) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  const { min, max } = command.args;
  if (parsed.positionals.length < min || (max !== undefined && parsed.positionals.length > max)) {
    const wanted =
      max === min ? `exactly ${min}` : max === undefined ? `at least ${min}` : `${min} to ${max}`;
    io.stderr.write(
      `dockhand ${found.name}: requires ${wanted} argument${max === 1 && min === 1 ? '' : 's'}\n` +
        `See 'dockhand ${found.name} --help'.\n\nUsage:  ${command.usage}\n`,
    );
    return EXIT.usage;
  }
  const globals = readGlobals({ ...early.values, ...pickGlobals(parsed.values) }, io.env);
  const context = createContext(globals, io);
  try {
    return (await command.run(context, parsed.values as never, parsed.positionals)) ?? EXIT.ok;
  } catch (err) {
    return report(err, globals, io, context.aborted());
  } finally {
    await context.close();
  }
}

function pickGlobals(values: Record<string, unknown>): { host?: string; config?: string; debug?: boolean } {
  const out: { host?: string; config?: string; debug?: boolean } = {};
  if (typeof values['host'] === 'string') out.host = values['host'];
  if (typeof values['config'] === 'string') out.config = values['config'];
  if (typeof values['debug'] === 'boolean') out.debug = values['debug'];
  return out;
}

function createContext(
  globals: GlobalOptions,
  io: CommandIO,
): CommandContext & { close(): Promise<void>; aborted(): boolean } {
  let engine: Promise<EngineClient> | undefined;
  let interrupt: AbortController | undefined;
  const onSigint = () => {
    if (interrupt?.signal.aborted) process.exit(EXIT.interrupted);
    interrupt?.abort();
  };
  return {
    globals,
    io,
    get signal() {
      if (interrupt === undefined) {
        interrupt = new AbortController();
        process.on('SIGINT', onSigint);
      }
      return interrupt.signal;
    },
    aborted: () => interrupt?.signal.aborted ?? false,
    engine() {
      // The engine client alone, not the whole SDK: `dockhand version` should start fast.
      engine ??= import('../client/engine-client.ts').then(
        ({ EngineClient }) =>
          new EngineClient({ env: io.env, ...(globals.host ? { host: globals.host } : {}) }),
      );
      return engine;
    },
    async challengeHandler() {
      const { cliChallengeHandler, openStores } = await import('./credentials.ts');
      return cliChallengeHandler(openStores(globals, io.env), globals.debug ? io.stderr : undefined);
    },
    async close() {
      process.off('SIGINT', onSigint);
      if (engine !== undefined) await (await engine).close();
    },
  };
}

async function report(
  err: unknown,
  globals: GlobalOptions,
  io: CommandIO,
  aborted: boolean,
): Promise<number> {
  const { describeError } = await import('./errors.ts');
  if (aborted) return EXIT.interrupted;
  const { resolveDaemonAddress } = await import('../client/daemon-address.ts');
  let daemon = globals.host ?? '';
  try {
    const address = resolveDaemonAddress({ env: io.env, ...(globals.host ? { host: globals.host } : {}) });
    daemon = address.kind === 'unix' ? `unix://${address.socketPath}` : address.origin;
  } catch {
    // The address itself was the problem; describeError names it.
  }
  const described = describeError(err, daemon);
  io.stderr.write(`dockhand: ${described.message}\n`);
  if (globals.debug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  return described.exitCode;
}
