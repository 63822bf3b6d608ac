// `dockhand catalog [--format table|json] [--page-size N] REGISTRY`: the repositories a registry holds, asked of the
// registry itself (no daemon) with the credential chain, and printed page by page as they arrive.

import { listRepositories } from '../../client/index.ts';
import { defineCommand } from '../command.ts';
import { LISTING_HELP, LISTING_OPTIONS, readListingFlags } from '../listing-flags.ts';

export default defineCommand({
  usage: 'dockhand catalog [OPTIONS] REGISTRY',
  description: "List a registry's repositories (its catalog API; the login needs registry:catalog:*)",
  options: LISTING_OPTIONS,
  optionHelp: LISTING_HELP,
  args: { min: 1, max: 1 },
  async run(context, flags, [registry]) {
    const { format, pageSize } = readListingFlags(flags);
    const repositories = listRepositories(registry ?? '', {
      challengeHandler: await context.challengeHandler(),
      signal: context.signal,
      ...(pageSize === undefined ? {} : { pageSize }),
    });
    const out = context.io.stdout;
    // The header waits for the first answer, so a refusal prints nothing on stdout.
    let started = false;
    const start = () => {
      if (!started && format === 'table') out.write('REPOSITORY\n');
      started = true;
    };
    for await (const repository of repositories) {
      start();
      out.write(format === 'json' ? `${JSON.stringify({ Repository: repository })}\n` : `${repository}\n`);
    }
    start();
    return undefined;
  },
});
