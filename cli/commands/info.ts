// `dockhand info`: the daemon's /info, in docker's layout for the fields an image daemon has.

import { humanSize } from '../../api-spec/progress-bar.ts';
import { defineCommand } from '../command.ts';

export default defineCommand({
  usage: 'dockhand info [OPTIONS]',
  description: 'Display system-wide information',
  options: { format: { type: 'string' } },
  optionHelp: ["      --format string   'json' prints the daemon's answer as it is"],
  args: { min: 0, max: 0 },
  async run(context, flags) {
    const engine = await context.engine();
    const info = await engine.info(context.signal);
    if (flags.format === 'json') {
      context.io.stdout.write(`${JSON.stringify(info)}\n`);
      return undefined;
    }
    const registries = info.RegistryConfig.InsecureRegistryCIDRs;
    const lines = [
      'Server:',
      ` Images: ${info.Images}`,
      ` Server Version: ${info.ServerVersion}`,
      ` Storage Driver: ${info.Driver}`,
      ` Operating System: ${info.OperatingSystem}`,
      ` OSType: ${info.OSType}`,
      ` Architecture: ${info.Architecture}`,
      ` CPUs: ${info.NCPU}`,
      ` Total Memory: ${humanSize(info.MemTotal, 3)}`,
      ` Name: ${info.Name}`,
      ` ID: ${info.ID}`,
      ` Docker Root Dir: ${info.DockerRootDir}`,
      ` Debug Mode: ${info.Debug}`,
      ' Insecure Registries:',
      ...registries.map((r) => `  ${r}`),
      ...(info.RegistryConfig.Mirrors.length > 0
        ? [' Registry Mirrors:', ...info.RegistryConfig.Mirrors.map((m) => `  ${m}`)]
        : []),
      ...info.Warnings.map((w) => w),
    ];
    context.io.stdout.write(`${lines.join('\n')}\n`);
    return undefined;
  },
});
