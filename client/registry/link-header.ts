// The `Link` header (RFC 8288) that registries use to page `/v2/_catalog` and `/v2/<name>/tags/list`:
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

const PARAM =
  /^[ \t]*;[ \t]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*(?:=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^;,\s"]*)))?/;
const TARGET = /^[ \t]*<([^>]*)>/;

export function parseLinkHeader(value: string | readonly string[] | undefined): LinkValue[] {
  if (value === undefined) return [];
  const links: LinkValue[] = [];
  for (const line of typeof value === 'string' ? [value] : value) parseLine(line, links);
  return links;
}

function parseLine(line: string, links: LinkValue[]): void {
  let rest = line;
  while (rest !== '') {
    const target = TARGET.exec(rest);
    if (!target) {
      rest = afterNextComma(rest);
      continue;
    }
    rest = rest.slice(target[0].length);
    const link: LinkValue = { target: target[1]!.trim(), rel: [], params: Object.create(null) };
    let relSeen = false;
    for (let param = PARAM.exec(rest); param; param = PARAM.exec(rest)) {
      rest = rest.slice(param[0].length);
      const name = param[1]!.toLowerCase();
      const text = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
      if (name === 'rel') {
        if (!relSeen)
          link.rel = text
            .toLowerCase()
            .split(/[ \t]+/)
            .filter((r) => r !== '');
        relSeen = true;
      } else if (!Object.hasOwn(link.params, name)) {
        link.params[name] = text;
      }
    }
    const end = /^[ \t]*(?:,|$)/.exec(rest);
    if (end) links.push(link);
    rest = end ? rest.slice(end[0].length) : afterNextComma(rest);
  }
}

// Skips a malformed link-value: up to the next comma outside <…> and quotes.
function afterNextComma(s: string): string {
  let quoted = false;
  let bracketed = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') bracketed = true;
    else if (c === '>') bracketed = false;
    else if (c === ',' && !bracketed) return s.slice(i + 1);
  }
  return '';
}

/** The target of the first link whose `rel` holds `relation`. */
export function findLink(links: readonly LinkValue[], relation: string): string | undefined {
  const wanted = relation.toLowerCase();
  return links.find((link) => link.rel.includes(wanted))?.target;
}
