// `dockhand tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`.

import { defineCommand } from '../command.ts';

export default defineCommand({
  usage: 'dockhand tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  options: {},
  args: { min: 2, max: 2 },
  async run(context, _flags, [source = '', target = '']) {
    const engine = await context.engine();
    await engine.tagImage(source, target, context.signal);
    return undefined;
  },
});
