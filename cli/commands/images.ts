// `dockhand images [-a] [--digests] [--filter F] [--format table|json] [REPOSITORY[:TAG]]`, docker's columns.

import { humanSize } from '../../api-spec/progress-bar.ts';
import type { ImageSummary } from '../../api-spec/types.ts';
import { parseReference } from '../../protocol/reference.ts';
import { defineCommand } from '../command.ts';
import { UsageError } from '../failures.ts';
import { parseFilterFlags } from '../format/filters.ts';
import { formatTable } from '../format/table.ts';
import { createdSince } from '../format/time.ts';

interface ImageRow {
  Repository: string;
  Tag: string;
  Digest: string;
  ID: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
  Containers: string;
}

export default defineCommand({
  usage: 'dockhand images [OPTIONS] [REPOSITORY[:TAG]]',
  description: 'List images',
  options: {
    all: { type: 'boolean', short: 'a' },
    digests: { type: 'boolean' },
    filter: { type: 'string', short: 'f', multiple: true },
    format: { type: 'string' },
    'no-trunc': { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
  },
  optionHelp: [
    '  -a, --all             Show all images (default hides intermediate images)',
    '      --digests         Show digests',
    '  -f, --filter filter   Filter output based on conditions provided',
    "      --format string   Format output: 'table' (default) or 'json' (one object per line)",
    "      --no-trunc        Don't truncate output",
    '  -q, --quiet           Only show image IDs',
  ],
  args: { min: 0, max: 1 },
  async run(context, flags, [repository]) {
    const format = flags.format ?? 'table';
    if (format !== 'table' && format !== 'json') {
      throw new UsageError(`--format: "${format}" is not one of table, json`);
    }
    const filters = parseFilterFlags(flags.filter) ?? {};
    if (repository !== undefined) filters['reference'] = [...(filters['reference'] ?? []), repository];
    const engine = await context.engine();
    const images = await engine.listImages({
      all: flags.all ?? false,
      digests: flags.digests ?? false,
      filters,
      signal: context.signal,
    });
    const rows = images.flatMap((image) => imageRows(image, flags['no-trunc'] ?? false));
    const out = context.io.stdout;
    if (flags.quiet) {
      out.write([...new Set(rows.map((row) => row.ID))].map((id) => `${id}\n`).join(''));
    } else if (format === 'json') {
      out.write(rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
    } else {
      const header = [
        'REPOSITORY',
        'TAG',
        ...(flags.digests ? ['DIGEST'] : []),
        'IMAGE ID',
        'CREATED',
        'SIZE',
      ];
      const cells = rows.map((row) => [
        row.Repository,
        row.Tag,
        ...(flags.digests ? [row.Digest] : []),
        row.ID,
        row.CreatedSince,
        row.Size,
      ]);
      out.write(formatTable(header, cells));
    }
    return undefined;
  },
});

/** One row per tag (docker's listing), or one `<none>` row for an untagged image with its digests. */
function imageRows(image: ImageSummary, noTrunc: boolean): ImageRow[] {
  const id = noTrunc ? image.Id : image.Id.replace(/^sha256:/, '').slice(0, 12);
  const base = {
    ID: id,
    CreatedSince: createdSince(image.Created),
    CreatedAt: new Date(image.Created * 1000).toISOString(),
    Size: humanSize(image.Size, 3),
    Containers: String(image.Containers < 0 ? 'N/A' : image.Containers),
  };
  const digestOf = (name: string) =>
    image.RepoDigests.find((d) => d.slice(0, d.lastIndexOf('@')) === name)?.split('@')[1] ?? '<none>';
  if (image.RepoTags.length === 0) {
    const digests = image.RepoDigests.length > 0 ? image.RepoDigests : ['<none>@<none>'];
    return digests.map((d) => ({
      ...base,
      Repository: d.slice(0, d.lastIndexOf('@')),
      Tag: '<none>',
      Digest: d.slice(d.lastIndexOf('@') + 1),
    }));
  }
  return image.RepoTags.map((tagged) => {
    const reference = parseReference(tagged);
    const name = tagged.slice(0, tagged.length - (reference.tag?.length ?? 0) - 1);
    return { ...base, Repository: name, Tag: reference.tag ?? '<none>', Digest: digestOf(name) };
  });
}
