// `dockhand push [-a] [-q] NAME[:TAG]`: pushes through the daemon in clientAuth mode, with docker's progress.

import { parseReference } from '../../client/index.ts';
import { defineCommand } from '../command.ts';
import { withProgress } from '../progress/progress-view.ts';

export default defineCommand({
  usage: 'dockhand push [OPTIONS] NAME[:TAG]',
  description: 'Upload an image to a registry',
  options: {
    'all-tags': { type: 'boolean', short: 'a' },
    quiet: { type: 'boolean', short: 'q' },
  },
  optionHelp: [
    '  -a, --all-tags        Push all tags of an image to the repository',
    '  -q, --quiet           Suppress verbose output',
  ],
  args: { min: 1, max: 1 },
  async run(context, flags, [name = '']) {
    const reference = parseReference(name);
    const [engine, challengeHandler] = await Promise.all([context.engine(), context.challengeHandler()]);
    await withProgress(context.io.stdout, flags.quiet ?? false, (onProgress) =>
      engine.push(name, {
        challengeHandler,
        signal: context.signal,
        ...(flags['all-tags'] ? { allTags: true } : {}),
        ...(onProgress ? { onProgress } : {}),
      }),
    );
    if (flags.quiet) context.io.stdout.write(`${reference.canonical}\n`);
    return undefined;
  },
});
