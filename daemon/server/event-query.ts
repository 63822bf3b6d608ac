// GET /events parameters: since/until as moby's `seconds[.nanoseconds]`, and the filters an image event can match.
import { parseFilters } from '../../api-spec/filters.ts';
import type { EventMessage } from '../../api-spec/types.ts';
import { InvalidParameterError } from '../errors.ts';

export interface EventQuery {
  /** Nanoseconds since the epoch (as a number: event times are numbers too). */
  since?: number;
  until?: number;
  filters: Record<string, string[]>;
}

/** Filter keys that only match other event types (containers, networks, …), which this daemon never emits. */
const OTHER_TYPES_KEYS = new Set([
  'config',
  'container',
  'daemon',
  'network',
  'node',
  'plugin',
  'secret',
  'service',
  'volume',
]);

export function parseEventQuery(query: { since?: string; until?: string; filters?: string }): EventQuery {
  const out: EventQuery = { filters: parseFilters(query.filters) };
  if (query.since !== undefined && query.since !== '') out.since = parseTimestamp(query.since, 'since');
  if (query.until !== undefined && query.until !== '') out.until = parseTimestamp(query.until, 'until');
  if (out.since !== undefined && out.until !== undefined && out.since > out.until) {
    throw new InvalidParameterError(
      `\`since\` time (${query.since}) cannot be after \`until\` time (${query.until})`,
    );
  }
  return out;
}

function parseTimestamp(value: string, field: string): number {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  const seconds = m ? Number(m[1]) : Number.NaN;
  if (!m || !Number.isSafeInteger(seconds)) {
    throw new InvalidParameterError(`invalid ${field} "${value}": must be unix seconds[.nanoseconds]`);
  }
  return seconds * 1e9 + Number((m[2] ?? '').padEnd(9, '0'));
}

export function inTimeRange(event: EventMessage, q: EventQuery): boolean {
  if (q.since !== undefined && event.timeNano < q.since) return false;
  return q.until === undefined || event.timeNano <= q.until;
}

export function matchesFilters(event: EventMessage, filters: Record<string, string[]>): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    if (OTHER_TYPES_KEYS.has(key)) return false;
    switch (key) {
      case 'type':
        if (!values.includes(event.Type)) return false;
        break;
      case 'event':
      case 'action':
        if (!values.includes(event.Action)) return false;
        break;
      case 'scope':
        if (!values.includes(event.scope)) return false;
        break;
      case 'image':
        if (!values.some((v) => imageMatches(event, v))) return false;
        break;
      case 'label':
        if (!values.some((v) => labelMatches(event, v))) return false;
        break;
    }
  }
  return true;
}

function imageMatches(event: EventMessage, value: string): boolean {
  const name = event.Actor.Attributes['name'];
  return (
    event.Actor.ID === value ||
    name === value ||
    (name !== undefined && name.replace(/:[^:/]+$/, '') === value)
  );
}

function labelMatches(event: EventMessage, value: string): boolean {
  const eq = value.indexOf('=');
  if (eq === -1) return value in event.Actor.Attributes;
  return event.Actor.Attributes[value.slice(0, eq)] === value.slice(eq + 1);
}

/** API < 1.52 clients also read the legacy `id` and `status` fields. */
export function withLegacyFields(event: EventMessage): EventMessage {
  return { ...event, id: event.id ?? event.Actor.ID, status: event.status ?? event.Action };
}

/** The event stream's formats, as moby negotiates them: one JSON value per line, or RFC 7464 records. */
export type EventsMediaType =
  | 'application/json'
  | 'application/jsonl'
  | 'application/x-ndjson'
  | 'application/json-seq';

const EVENTS_MEDIA_TYPES: readonly EventsMediaType[] = [
  'application/jsonl',
  'application/x-ndjson',
  'application/json-seq',
  'application/json',
];

/**
 * The first type of the Accept header (highest q first, then in order) that the stream can be written as; absent,
 * wildcard or nothing known: `application/json`, the default before API 1.52 (the newest this daemon speaks is 1.50).
 */
export function eventsMediaType(accept: string | undefined): EventsMediaType {
  if (accept === undefined) return 'application/json';
  const ranked = accept
    .split(',')
    .map((part, order) => {
      const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return { type, q: q === undefined ? 1 : Number(q.slice(2)) || 0, order };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { type } of ranked) {
    const known = EVENTS_MEDIA_TYPES.find((t) => t === type);
    if (known) return known;
  }
  return 'application/json';
}

/** One event in the negotiated format: a line, or for json-seq an RS-prefixed record. */
export function formatEvent(json: string, type: EventsMediaType): string {
  return type === 'application/json-seq' ? `\x1e${json}\n` : `${json}\n`;
}
