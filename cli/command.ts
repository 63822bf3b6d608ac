// What every command module exports: its usage, its own flags (node:util parseArgs options) and `run`, which gets
// the parsed flags and a context holding what commands share (the daemon client, the credential chain, the
// streams, the Ctrl-C signal). Commands are loaded lazily by the table in commands.ts.

import type { ParseArgsConfig, parseArgs } from 'node:util';
import type { ChallengeHandler, EngineClient } from '../client/index.ts';
import type { GlobalOptions } from './global-options.ts';

/** node:util's option table (its own type is not exported). */
export type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

export type FlagValues<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>
>['values'];

export interface CommandIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export interface CommandContext {
  globals: GlobalOptions;
  io: CommandIO;
  /** Aborted on Ctrl-C (SIGINT): long operations pass it down so the daemon stops too. */
  signal: AbortSignal;
  /** The daemon client for -H / DOCKER_HOST, made on first use and closed when the command ends. */
  engine(): Promise<EngineClient>;
  /** The credential chain answering registry challenges on this side (see credentials.ts). */
  challengeHandler(): Promise<ChallengeHandler>;
}

export interface Command<O extends ParseArgsOptionsConfig = ParseArgsOptionsConfig> {
  /** e.g. "dockhand pull [OPTIONS] NAME[:TAG|@DIGEST]" */
  usage: string;
  description: string;
  options: O;
  /** Help lines for the options, in the order shown. */
  optionHelp?: string[];
  /** How many positional arguments the command takes (inclusive bounds; max undefined = any). */
  args: { min: number; max?: number };
  /** The command parses its own arguments (`daemon`, whose -H and --config mean the daemon's). */
  raw?: boolean;
  run(context: CommandContext, flags: FlagValues<O>, args: string[]): Promise<number | undefined>;
}

/** Keeps each command's flag types precise while the table holds them as one type. */
export function defineCommand<O extends ParseArgsOptionsConfig>(command: Command<O>): Command<O> {
  return command;
}
