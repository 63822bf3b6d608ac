// Go's path.Match, the glob grammar moby's filters use (`*`, `?`, `[^a-z]`, `\` escapes), compiled once per pattern.
// A star commits to the first place where the next chunk fits, as Go's implementation does, and never backtracks:
// a match costs at most (pattern length × name length) steps, however many stars the pattern has. A regular
// expression built from the glob backtracks instead, exponentially in the number of stars.

/** Patterns longer than this are refused: no reference is that long, and matching cost grows with the length. */
export const MAX_PATTERN_LENGTH = 512;

export class InvalidPatternError extends Error {
  override readonly name = 'InvalidPatternError';
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(
      `invalid pattern ${JSON.stringify(pattern.length > 64 ? `${pattern.slice(0, 64)}…` : pattern)}: ${reason}`,
    );
  }
}

type Item =
  | { kind: 'literal'; codePoint: number }
  | { kind: 'any' }
  | { kind: 'class'; negated: boolean; ranges: [number, number][] };

/** Items between stars; `star` says whether stars came before them. */
interface Chunk {
  star: boolean;
  items: Item[];
}

const SLASH = 0x2f;

export interface PathPattern {
  readonly source: string;
  /** True when the pattern matches all of `name`, as Go's path.Match(pattern, name). */
  test(name: string): boolean;
}

/** Parses `pattern` as Go's path.Match would; InvalidPatternError where Go answers ErrBadPattern, or when too long. */
export function compilePathPattern(pattern: string): PathPattern {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new InvalidPatternError(pattern, `longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  const chunks = parseChunks(pattern);
  return { source: pattern, test: (name) => matchChunks(chunks, name) };
}

function codePoints(text: string): number[] {
  const out: number[] = [];
  for (const c of text) out.push(c.codePointAt(0) as number);
  return out;
}

/** Go's scanChunk: stars, then everything up to the next star outside a character class. */
function parseChunks(pattern: string): Chunk[] {
  const cps = codePoints(pattern);
  const chunks: Chunk[] = [];
  let i = 0;
  while (i < cps.length) {
    let star = false;
    while (cps[i] === 0x2a) {
      star = true;
      i++;
    }
    let inRange = false;
    let end = i;
    for (; end < cps.length; end++) {
      const c = cps[end];
      if (c === 0x5c) {
        if (end + 1 < cps.length) end++;
      } else if (c === 0x5b) inRange = true;
      else if (c === 0x5d) inRange = false;
      else if (c === 0x2a && !inRange) break;
    }
    chunks.push({ star, items: parseItems(pattern, cps.slice(i, end)) });
    i = end;
  }
  return chunks;
}

/** Go's matchChunk grammar, without a name: every malformed part is found here, before any matching. */
function parseItems(pattern: string, chunk: number[]): Item[] {
  const items: Item[] = [];
  let i = 0;
  const bad = (reason: string) => new InvalidPatternError(pattern, reason);
  /** Go's getEsc: one possibly escaped character of a range, which must be followed by more of the class. */
  const rangeChar = (): number => {
    const c = chunk[i];
    if (c === undefined) throw bad('unterminated character class');
    if (c === 0x2d || c === 0x5d) throw bad('malformed character class');
    if (c === 0x5c) {
      i++;
      if (chunk[i] === undefined) throw bad('trailing backslash in a character class');
    }
    const r = chunk[i++] as number;
    if (i >= chunk.length) throw bad('unterminated character class');
    return r;
  };
  while (i < chunk.length) {
    const c = chunk[i] as number;
    if (c === 0x5b) {
      i++;
      const negated = chunk[i] === 0x5e;
      if (negated) i++;
      const ranges: [number, number][] = [];
      while (!(chunk[i] === 0x5d && ranges.length > 0)) {
        const lo = rangeChar();
        let hi = lo;
        if (chunk[i] === 0x2d) {
          i++;
          hi = rangeChar();
        }
        ranges.push([lo, hi]);
      }
      i++;
      items.push({ kind: 'class', negated, ranges });
    } else if (c === 0x3f) {
      i++;
      items.push({ kind: 'any' });
    } else if (c === 0x5c) {
      i++;
      if (i >= chunk.length) throw bad('trailing backslash');
      items.push({ kind: 'literal', codePoint: chunk[i++] as number });
    } else {
      i++;
      items.push({ kind: 'literal', codePoint: c });
    }
  }
  return items;
}

/** Whether `items` match `name` from index `at` (UTF-16 units, one code point per item); the index after, or -1. */
function matchItems(items: Item[], name: string, at: number): number {
  let i = at;
  for (const item of items) {
    if (i >= name.length) return -1;
    const c = name.codePointAt(i) as number;
    if (item.kind === 'literal') {
      if (c !== item.codePoint) return -1;
    } else if (item.kind === 'any') {
      if (c === SLASH) return -1;
    } else {
      const inside = item.ranges.some(([lo, hi]) => lo <= c && c <= hi);
      if (inside === item.negated) return -1;
    }
    i += c > 0xffff ? 2 : 1;
  }
  return i;
}

/** Go's Match loop over parsed chunks. */
function matchChunks(chunks: Chunk[], name: string): boolean {
  let at = 0;
  for (let n = 0; n < chunks.length; n++) {
    const { star, items } = chunks[n] as Chunk;
    const last = n === chunks.length - 1;
    if (star && items.length === 0) return name.indexOf('/', at) === -1;
    const here = matchItems(items, name, at);
    if (here !== -1 && (here === name.length || !last)) {
      at = here;
      continue;
    }
    if (!star) return false;
    // A star skips characters other than '/'.
    let next = -1;
    for (let skip = at; skip < name.length && name.charCodeAt(skip) !== SLASH; ) {
      skip += (name.codePointAt(skip) as number) > 0xffff ? 2 : 1;
      const after = matchItems(items, name, skip);
      if (after === -1 || (last && after !== name.length)) continue;
      next = after;
      break;
    }
    if (next === -1) return false;
    at = next;
  }
  return at === name.length;
}
