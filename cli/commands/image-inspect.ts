// `dockhand image inspect IMAGE...`: the Engine API's ImageInspect objects as one JSON array, as docker prints it.

import { EngineApiError } from '../../client/errors.ts';
import { defineCommand } from '../command.ts';
import { EXIT } from '../exit-codes.ts';

export default defineCommand({
  usage: 'dockhand image inspect [OPTIONS] IMAGE [IMAGE...]',
  description: 'Display detailed information on one or more images',
  options: {},
  args: { min: 1 },
  async run(context, _flags, names) {
    const engine = await context.engine();
    const found: unknown[] = [];
    const missing: string[] = [];
    for (const name of names) {
      try {
        found.push(await engine.inspectImage(name, context.signal));
      } catch (err) {
        if (!(err instanceof EngineApiError) || err.status !== 404) throw err;
        missing.push(name);
      }
    }
    context.io.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
    for (const name of missing) context.io.stderr.write(`Error: No such image: ${name}\n`);
    return missing.length > 0 ? EXIT.failed : undefined;
  },
});
