// `dockhand manifest inspect [--format table|json] REF`: what a reference points at in its registry, without pulling:
// media type and digest, then the platforms of an index or the layers and sizes of an image.

import {
  formatPlatform,
  humanSize,
  type InspectedImage,
  type InspectedIndex,
  inspectManifest,
} from '../../client/index.ts';
import { defineCommand } from '../command.ts';
import { UsageError } from '../failures.ts';
import { formatTable } from '../format/table.ts';

export default defineCommand({
  usage: 'dockhand manifest inspect [OPTIONS] NAME[:TAG|@DIGEST]',
  description: 'Display what an image reference points at in its registry, without pulling it',
  options: { format: { type: 'string' } },
  optionHelp: ["      --format string   Format output: 'table' (default) or 'json'"],
  args: { min: 1, max: 1 },
  async run(context, flags, [reference]) {
    const format = flags.format ?? 'table';
    if (format !== 'table' && format !== 'json') {
      throw new UsageError(`--format: "${format}" is not one of table, json`);
    }
    const inspected = await inspectManifest(reference ?? '', {
      challengeHandler: await context.challengeHandler(),
      signal: context.signal,
    });
    if (format === 'json') {
      context.io.stdout.write(`${JSON.stringify(inspected, null, 4)}\n`);
      return undefined;
    }
    const summary = [
      `Name:        ${inspected.reference}`,
      `MediaType:   ${inspected.mediaType}`,
      `Digest:      ${inspected.digest}`,
    ];
    const details = inspected.kind === 'index' ? platforms(inspected) : layers(inspected);
    context.io.stdout.write(`${[...summary, ...details.head].join('\n')}\n\n${details.table}${details.tail}`);
    return undefined;
  },
});

interface Details {
  head: string[];
  table: string;
  tail: string;
}

function platforms(index: InspectedIndex): Details {
  const rows = index.manifests.map((m) => [
    m.platform ? formatPlatform(m.platform) : 'unknown',
    m.digest,
    humanSize(m.size),
  ]);
  return { head: [], table: formatTable(['PLATFORM', 'DIGEST', 'SIZE'], rows), tail: '' };
}

function layers(image: InspectedImage): Details {
  const rows = image.layers.map((l) => [l.digest, l.mediaType, humanSize(l.size)]);
  return {
    head: [`Config:      ${image.config.digest} (${humanSize(image.config.size)})`],
    table: formatTable(['LAYER', 'MEDIA TYPE', 'SIZE'], rows),
    tail: `\nTotal size:  ${humanSize(image.totalSize)} (config and ${image.layers.length} layers, compressed)\n`,
  };
}
