// `dockhand tags [--format table|json] [--page-size N] REPOSITORY`: the tags of one repository, asked of the registry
// itself (no daemon) with the credential chain.

import { listTags, parseReference } from '../../client/index.ts';
import { defineCommand } from '../command.ts';
import { formatTable } from '../format/table.ts';
import { LISTING_HELP, LISTING_OPTIONS, readListingFlags } from '../listing-flags.ts';

export default defineCommand({
  usage: 'dockhand tags [OPTIONS] REPOSITORY',
  description: 'List the tags of a repository in its registry',
  options: LISTING_OPTIONS,
  optionHelp: LISTING_HELP,
  args: { min: 1, max: 1 },
  async run(context, flags, [repository]) {
    const { format, pageSize } = readListingFlags(flags);
    const name = parseReference(repository ?? '').familiar;
    const tags: string[] = [];
    for await (const tag of listTags(repository ?? '', {
      challengeHandler: await context.challengeHandler(),
      signal: context.signal,
      ...(pageSize === undefined ? {} : { pageSize }),
    })) {
      tags.push(tag);
    }
    const out = context.io.stdout;
    if (format === 'json') {
      out.write(tags.map((tag) => `${JSON.stringify({ Repository: name, Tag: tag })}\n`).join(''));
    } else {
      out.write(
        formatTable(
          ['REPOSITORY', 'TAG'],
          tags.map((tag) => [name, tag]),
        ),
      );
    }
    return undefined;
  },
});
