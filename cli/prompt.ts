// Asking the user at a terminal: a line, or a password without echo (as docker's login prompts).

import { createInterface } from 'node:readline/promises';
import type { CommandIO } from './command.ts';
import { EXIT } from './exit-codes.ts';
import { CliError } from './failures.ts';

export async function promptLine(io: CommandIO, question: string): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stdout as NodeJS.WritableStream });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Reads a password from the terminal in raw mode, echoing nothing; Ctrl-C ends the command with 130. */
export function promptPassword(io: CommandIO, question: string): Promise<string> {
  const stdin = io.stdin as NodeJS.ReadStream;
  io.stdout.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.stdout.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new CliError('login cancelled', EXIT.interrupted));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** All of stdin, without the trailing newline (`--password-stdin`). */
export async function readAllStdin(io: CommandIO): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin as AsyncIterable<Buffer | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
