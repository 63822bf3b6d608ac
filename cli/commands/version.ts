// `dockhand version`: the client's version, then the daemon's (or why it could not be reached).

import { SDK_VERSION } from '../../client/version.ts';
import { defineCommand } from '../command.ts';

export default defineCommand({
  usage: 'dockhand version [OPTIONS]',
  description: 'Show the Dockhand version information',
  options: {},
  args: { min: 0, max: 0 },
  async run(context) {
    const out = context.io.stdout;
    out.write(
      `Client:\n Version:           ${SDK_VERSION}\n Node version:      ${process.version}\n` +
        ` OS/Arch:           ${process.platform}/${process.arch}\n\n`,
    );
    const engine = await context.engine();
    const server = await engine.version(context.signal);
    out.write(
      `Server: ${server.Platform.Name}\n Engine:\n  Version:          ${server.Version}\n` +
        `  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})\n` +
        `  OS/Arch:          ${server.Os}/${server.Arch}\n`,
    );
    return undefined;
  },
});
