// `dockhand logout [SERVER]`: forgets the registry in both stores the credential chain reads.

import { defineCommand } from '../command.ts';
import { openStores } from '../credentials.ts';

export default defineCommand({
  usage: 'dockhand logout [SERVER]',
  description: 'Log out from a registry. If no server is specified, the default is defined by the daemon.',
  options: {},
  args: { min: 0, max: 1 },
  async run(context, _flags, [server = 'docker.io']) {
    const stores = openStores(context.globals, context.io.env);
    const [inTokens, inDocker] = await Promise.all([
      stores.tokenStore.get(server),
      stores.dockerConfig.get(server),
    ]);
    if (inTokens === undefined && inDocker === undefined) {
      context.io.stdout.write(`Not logged in to ${server}\n`);
      return undefined;
    }
    context.io.stdout.write(`Removing login credentials for ${server}\n`);
    if (inTokens !== undefined)
      await stores.tokenStore.withLock(server, () => stores.tokenStore.delete(server));
    if (inDocker !== undefined) await stores.dockerConfig.delete(server);
    return undefined;
  },
});
