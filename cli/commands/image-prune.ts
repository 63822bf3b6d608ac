// `dockhand image prune [-a] [-f]`: removes dangling images (all unused ones with -a), asking first unless -f.

import { createInterface } from 'node:readline/promises';
import { humanSize } from '../../api-spec/progress-bar.ts';
import { defineCommand } from '../command.ts';
import { parseFilterFlags } from '../format/filters.ts';

export default defineCommand({
  usage: 'dockhand image prune [OPTIONS]',
  description: 'Remove unused images',
  options: {
    all: { type: 'boolean', short: 'a' },
    force: { type: 'boolean', short: 'f' },
    filter: { type: 'string', multiple: true },
  },
  optionHelp: [
    '  -a, --all             Remove all unused images, not just dangling ones',
    '  -f, --force           Do not prompt for confirmation',
    '      --filter filter   Provide filter values (e.g. "until=<timestamp>")',
  ],
  args: { min: 0, max: 0 },
  async run(context, flags) {
    const warning = flags.all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!flags.force && !(await confirm(context.io, warning))) return undefined;
    const filters = { ...parseFilterFlags(flags.filter), ...(flags.all ? { dangling: ['false'] } : {}) };
    const engine = await context.engine();
    const result = await engine.prune({ filters, signal: context.signal });
    const deleted = result.ImagesDeleted ?? [];
    let text = '';
    if (deleted.length > 0) {
      text += 'Deleted Images:\n';
      for (const item of deleted) {
        if (item.Untagged) text += `untagged: ${item.Untagged}\n`;
        if (item.Deleted) text += `deleted: ${item.Deleted}\n`;
      }
      text += '\n';
    }
    context.io.stdout.write(`${text}Total reclaimed space: ${humanSize(result.SpaceReclaimed, 3)}\n`);
    return undefined;
  },
});

async function confirm(io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream }, warning: string) {
  const rl = createInterface({ input: io.stdin, output: io.stdout });
  try {
    const answer = await rl.question(`${warning}\nAre you sure you want to continue? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
