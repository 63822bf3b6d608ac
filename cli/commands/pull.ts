// `dockhand pull [-q] [--platform P] NAME[:TAG|@DIGEST]`: pulls through the daemon in clientAuth mode, answering
// each registry challenge here (credentials.ts), with docker's progress; prints the full reference last.

import { parseReference } from '../../client/index.ts';
import { defineCommand } from '../command.ts';
import { UsageError } from '../errors.ts';
import { withProgress } from '../progress/progress-view.ts';

export default defineCommand({
  usage: 'dockhand pull [OPTIONS] NAME[:TAG|@DIGEST]',
  description: 'Download an image from a registry',
  options: {
    'all-tags': { type: 'boolean', short: 'a' },
    platform: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  },
  optionHelp: [
    '  -a, --all-tags        Download all tagged images in the repository (not supported by the daemon)',
    '      --platform string Set platform if server is multi-platform capable (os[/arch[/variant]])',
    '  -q, --quiet           Suppress verbose output',
  ],
  args: { min: 1, max: 1 },
  async run(context, flags, [name = '']) {
    if (flags['all-tags']) {
      throw new UsageError('--all-tags: the Dockhand daemon pulls one tag per request; name each tag');
    }
    const reference = parseReference(name);
    const [engine, challengeHandler] = await Promise.all([context.engine(), context.challengeHandler()]);
    await withProgress(context.io.stdout, flags.quiet ?? false, (onProgress) =>
      engine.pull(name, {
        challengeHandler,
        signal: context.signal,
        ...(flags.platform ? { platform: flags.platform } : {}),
        ...(onProgress ? { onProgress } : {}),
      }),
    );
    context.io.stdout.write(`${reference.canonical}\n`);
    return undefined;
  },
});
