// The `Link` header (RFC 8288) that registries use to page `/v2/_catalog` and `/v2/<name>/tags/list` (the SDK browses
// with it, the daemon pulls every tag with it):
//
//   Link       = #link-value
//   link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
//   link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
//
// `rel` holds one or more relation types separated by spaces, compared case-insensitively. The header is
// untrusted: parsing never throws, and a malformed link-value is dropped without losing the ones after it.

export interface LinkValue {
  /** The URI-Reference as written (relative references are resolved by the caller). */
  target: string;
  /** Relation types, lower-cased. */
  rel: string[];
  /** Other parameters by lower-cased name (the first occurrence wins, as RFC 8288 §3 asks). */
  params: Record<string, string>;
}

// Sticky patterns read at a position: one pass over the header, whatever it holds.
const TARGET = /[ \t]*<([^>]*)>/y;
const PARAM =
  /[ \t]*;[ \t]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*(?:=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^;,\s"]*)))?/y;
const END = /[ \t]*(?:,|$)/y;
// A malformed link-value is skipped up to the next comma outside <…> and quoted strings.
const SKIP = /(?:<[^>]*>?|"(?:[^"\\]|\\.)*"?|[^,<"])*,?/y;

export function parseLinkHeader(value: string | readonly string[] | undefined): LinkValue[] {
  if (value === undefined) return [];
  const links: LinkValue[] = [];
  for (const line of typeof value === 'string' ? [value] : value) parseLine(line, links);
  return links;
}

function match(pattern: RegExp, line: string, at: number): RegExpExecArray | null {
  pattern.lastIndex = at;
  return pattern.exec(line);
}

function parseLine(line: string, links: LinkValue[]): void {
  let at = 0;
  while (at < line.length) {
    const link = linkValue(line, at);
    if (link !== undefined) {
      links.push(link.value);
      at = link.end;
    } else {
      const skipped = match(SKIP, line, at)!;
      // SKIP always consumes something unless it stands on a character it cannot take; step over that one.
      at += Math.max(1, skipped[0].length);
    }
  }
}

function linkValue(line: string, start: number): { value: LinkValue; end: number } | undefined {
  const target = match(TARGET, line, start);
  if (!target) return undefined;
  let at = start + target[0].length;
  const value: LinkValue = { target: target[1]!.trim(), rel: [], params: Object.create(null) };
  let relSeen = false;
  for (let param = match(PARAM, line, at); param; param = match(PARAM, line, at)) {
    at += param[0].length;
    const name = param[1]!.toLowerCase();
    const text = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
    if (name === 'rel') {
      if (!relSeen)
        value.rel = text
          .toLowerCase()
          .split(/[ \t]+/)
          .filter((r) => r !== '');
      relSeen = true;
    } else if (!Object.hasOwn(value.params, name)) {
      value.params[name] = text;
    }
  }
  const end = match(END, line, at);
  return end ? { value, end: at + end[0].length } : undefined;
}

/** The target of the first link whose `rel` holds `relation`. */
export function findLink(links: readonly LinkValue[], relation: string): string | undefined {
  const wanted = relation.toLowerCase();
  return links.find((link) => link.rel.includes(wanted))?.target;
}
