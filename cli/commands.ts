// The command table: each entry names a command (one word, or two for groups like `image inspect`) and loads its
// module only when it runs, so `dockhand version` does not load the pull renderer or the daemon. Adding a command
// means adding a file under commands/ and a line here.

import type { Command } from './command.ts';
import { GLOBAL_HELP } from './global-options.ts';

export interface CommandEntry {
  summary: string;
  load: () => Promise<{ default: Command }>;
}

// Typed loosely at the table: each module keeps its precise flag types through defineCommand.
type Loaded = Promise<{ default: unknown }>;
const entry = (summary: string, load: () => Loaded): CommandEntry => ({
  summary,
  load: load as () => Promise<{ default: Command }>,
});

export const COMMANDS: Record<string, CommandEntry> = {
  daemon: entry(
    'Run the image daemon (Docker Engine API subset) in the foreground',
    () => import('./commands/daemon.ts'),
  ),
  pull: entry('Download an image from a registry', () => import('./commands/pull.ts')),
  push: entry('Upload an image to a registry', () => import('./commands/push.ts')),
  images: entry('List images', () => import('./commands/images.ts')),
  'image inspect': entry(
    'Display detailed information on one or more images',
    () => import('./commands/image-inspect.ts'),
  ),
  'image prune': entry('Remove unused images', () => import('./commands/image-prune.ts')),
  rmi: entry('Remove one or more images', () => import('./commands/rmi.ts')),
  tag: entry('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', () => import('./commands/tag.ts')),
  login: entry('Authenticate to a registry', () => import('./commands/login.ts')),
  logout: entry('Log out from a registry', () => import('./commands/logout.ts')),
  version: entry('Show the Dockhand version information', () => import('./commands/version.ts')),
  info: entry('Display system-wide information', () => import('./commands/info.ts')),
  events: entry('Get real time events from the daemon', () => import('./commands/events.ts')),
  catalog: entry("List a registry's repositories", () => import('./commands/catalog.ts')),
  tags: entry('List the tags of a repository in its registry', () => import('./commands/tags.ts')),
  'manifest inspect': entry(
    'Display what an image reference points at in its registry, without pulling it',
    () => import('./commands/manifest-inspect.ts'),
  ),
};

/** The entry for the longest command name that starts `argv`, and how many words it took. */
export function findCommand(
  argv: readonly string[],
): { name: string; entry: CommandEntry; words: number } | undefined {
  for (const words of [2, 1]) {
    if (argv.length < words) continue;
    const name = argv.slice(0, words).join(' ');
    const found = COMMANDS[name];
    if (found !== undefined) return { name, entry: found, words };
  }
  return undefined;
}

export function usageText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, e]) => `  ${name.padEnd(width)}${e.summary}`);
  return `Usage:  dockhand [OPTIONS] COMMAND

A docker-style command line for the Dockhand image daemon

Commands:
${lines.join('\n')}

Global options:
${GLOBAL_HELP.join('\n')}

Run 'dockhand COMMAND --help' for more information on a command.
`;
}
