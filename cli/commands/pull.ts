// `dockhand pull [-q] [--platform P] NAME[:TAG|@DIGEST]`: pulls through the daemon in clientAuth mode, answering
// each registry challenge here (credentials.ts), with docker's progress; prints the full reference last.
// -a lists the repository's tags from the registry (the SDK's listTags) and pulls each.

import { listTags, parseReference } from '../../client/index.ts';
import { defineCommand } from '../command.ts';
import { UsageError } from '../failures.ts';
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
    '  -a, --all-tags        Download all tagged images in the repository',
    '      --platform string Set platform if server is multi-platform capable (os[/arch[/variant]])',
    '  -q, --quiet           Suppress verbose output',
  ],
  args: { min: 1, max: 1 },
  async run(context, flags, [name = '']) {
    const reference = parseReference(name);
    const [engine, challengeHandler] = await Promise.all([context.engine(), context.challengeHandler()]);
    const pull = (ref: string) =>
      withProgress(context.io.stdout, flags.quiet ?? false, (onProgress) =>
        engine.pull(ref, {
          challengeHandler,
          signal: context.signal,
          ...(flags.platform ? { platform: flags.platform } : {}),
          ...(onProgress ? { onProgress } : {}),
        }),
      );
    if (!flags['all-tags']) {
      await pull(name);
      context.io.stdout.write(`${reference.canonical}\n`);
      return undefined;
    }
    if (reference.tag !== undefined || reference.digest !== undefined) {
      throw new UsageError("tag can't be used with --all-tags/-a");
    }
    // The daemon pulls one tag per request: the tags are listed here, answered by the same credential chain.
    const tags: string[] = [];
    for await (const tag of listTags(reference.name, { challengeHandler, signal: context.signal }))
      tags.push(tag);
    for (const tag of tags) await pull(`${reference.name}:${tag}`);
    context.io.stdout.write(`${reference.canonical.replace(/:[^:/]+$/, '')}\n`);
    return undefined;
  },
});
