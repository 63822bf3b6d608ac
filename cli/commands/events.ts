// `dockhand events [--since T] [--until T] [--filter F] [--format json]`: docker's event lines until Ctrl-C or
// --until.

import type { EventMessage } from '../../client/index.ts';
import { defineCommand } from '../command.ts';
import { parseFilterFlags } from '../format/filters.ts';

export default defineCommand({
  usage: 'dockhand events [OPTIONS]',
  description: 'Get real time events from the daemon',
  options: {
    since: { type: 'string' },
    until: { type: 'string' },
    filter: { type: 'string', short: 'f', multiple: true },
    format: { type: 'string' },
  },
  optionHelp: [
    '  -f, --filter filter   Filter output based on conditions provided',
    "      --format string   'json': one JSON object per line",
    '      --since string    Show all events created since timestamp',
    '      --until string    Stream events until this timestamp',
  ],
  args: { min: 0, max: 0 },
  async run(context, flags) {
    const engine = await context.engine();
    const filters = parseFilterFlags(flags.filter);
    const events = engine.events({
      signal: context.signal,
      ...(flags.since ? { since: flags.since } : {}),
      ...(flags.until ? { until: flags.until } : {}),
      ...(filters ? { filters } : {}),
    });
    for await (const event of events) {
      context.io.stdout.write(
        flags.format === 'json' ? `${JSON.stringify(event)}\n` : `${eventLine(event)}\n`,
      );
    }
    return undefined;
  },
});

/** `2024-05-01T10:00:00.123456789Z image pull alpine:latest (name=alpine)`, as docker prints events. */
function eventLine(event: EventMessage): string {
  // timeNano is past 2^53, so JSON gives it to us rounded: milliseconds are all it still holds exactly.
  const iso = new Date(Math.round(event.timeNano / 1e6)).toISOString();
  const time = `${iso.slice(0, 23)}000000Z`;
  const attributes = Object.entries(event.Actor.Attributes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${time} ${event.Type} ${event.Action} ${event.Actor.ID}${attributes ? ` (${attributes})` : ''}`;
}
