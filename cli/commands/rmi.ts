// `dockhand rmi [-f] [--no-prune] IMAGE...`: "Untagged:" and "Deleted:" lines; a failure for one image is
// reported and the others still removed, as docker does.

import { EngineApiError } from '../../client/errors.ts';
import { defineCommand } from '../command.ts';
import { EXIT } from '../exit-codes.ts';

export default defineCommand({
  usage: 'dockhand rmi [OPTIONS] IMAGE [IMAGE...]',
  description: 'Remove one or more images',
  options: {
    force: { type: 'boolean', short: 'f' },
    'no-prune': { type: 'boolean' },
  },
  optionHelp: [
    '  -f, --force           Force removal of the image',
    '      --no-prune        Do not delete untagged parents',
  ],
  args: { min: 1 },
  async run(context, flags, names) {
    const engine = await context.engine();
    let failed = false;
    for (const name of names) {
      try {
        const items = await engine.removeImage(name, {
          force: flags.force ?? false,
          noprune: flags['no-prune'] ?? false,
          signal: context.signal,
        });
        for (const item of items) {
          if (item.Untagged) context.io.stdout.write(`Untagged: ${item.Untagged}\n`);
          if (item.Deleted) context.io.stdout.write(`Deleted: ${item.Deleted}\n`);
        }
      } catch (err) {
        if (!(err instanceof EngineApiError)) throw err;
        failed = true;
        context.io.stderr.write(`Error response from daemon: ${err.message}\n`);
      }
    }
    return failed ? EXIT.failed : undefined;
  },
});
