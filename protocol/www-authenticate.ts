// WWW-Authenticate as RFC 7235 defines it, because registries and proxies send what the anchor parsers
// each half-support: several lines, several challenges per line, BWS around "=", empty quoted values,
// quoted-pair escapes, token68. The input is untrusted, so parsing never throws: a syntax error ends the
// line it is in, keeps what was complete before it, and is reported beside the result.
//
//   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
//
// After a comma, `token BWS "="` continues the current challenge's params; any other token starts a new
// challenge. That is the only reading the grammar allows, since an auth-scheme is never followed by "=".
import { ChallengeFormatError } from './errors.ts';

export interface Challenge {
  /** Lower-cased auth-scheme (`bearer`, `basic`, ...). */
  scheme: string;
  /** Lower-cased parameter names; quoted values unescaped. A null-prototype object. */
  params: Record<string, string>;
  token68?: string;
}

export interface ChallengeSyntaxIssue {
  /** Index of the header line (0 when a single string was given). */
  line: number;
  /** Character offset in that line, when the error sits at one place. */
  offset?: number;
  message: string;
}

export interface ParsedWwwAuthenticate {
  challenges: Challenge[];
  /** Empty when every line is valid RFC 7235. */
  issues: ChallengeSyntaxIssue[];
}

const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TOKEN68_WHOLE = /^[A-Za-z0-9\-._~+/]+=*$/;

function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

// HTAB, SP, VCHAR except DQUOTE and backslash, and obs-text.
function isQdtext(code: number): boolean {
  return (
    code === 0x09 ||
    code === 0x20 ||
    code === 0x21 ||
    (code >= 0x23 && code <= 0x7e && code !== 0x5c) ||
    code >= 0x80
  );
}

// HTAB, SP, VCHAR, obs-text: what may follow a backslash.
function isQuotable(code: number): boolean {
  return code === 0x09 || code === 0x20 || (code >= 0x21 && code <= 0x7e) || code >= 0x80;
}

class SyntaxFailure {
  constructor(
    readonly message: string,
    readonly offset?: number,
  ) {}
}

class LineParser {
  pos = 0;
  readonly challenges: Challenge[] = [];

  constructor(readonly s: string) {}

  skipWhitespace(): void {
    while (this.pos < this.s.length && isWhitespace(this.s.charCodeAt(this.pos))) this.pos++;
  }

  atEnd(): boolean {
    return this.pos >= this.s.length;
  }

  peek(): string {
    return this.s[this.pos] ?? '';
  }

  token(): string {
    const start = this.pos;
    while (this.pos < this.s.length && isTchar(this.s.charCodeAt(this.pos))) this.pos++;
    return this.s.slice(start, this.pos);
  }

  // Skips `OWS "," OWS` runs: the #list rule allows empty elements.
  skipListSeparators(): void {
    this.skipWhitespace();
    while (this.peek() === ',') {
      this.pos++;
      this.skipWhitespace();
    }
  }

  parse(): void {
    this.skipListSeparators();
    while (!this.atEnd()) {
      this.challenge();
      this.skipListSeparators();
    }
  }

  challenge(): void {
    const schemeAt = this.pos;
    const scheme = this.token();
    if (scheme === '') throw new SyntaxFailure(`expected auth-scheme at ${schemeAt}`, schemeAt);
    if (!this.atEnd() && this.peek() !== ',' && !isWhitespace(this.s.charCodeAt(this.pos))) {
      throw new SyntaxFailure(`expected SP after scheme at ${this.pos}`, this.pos);
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: Object.create(null) };
    this.challenges.push(challenge);
    // Without the SP, a comma ends this challenge: `Basic, realm=x` is not Basic with a realm.
    if (this.atEnd() || this.peek() === ',') return;
    this.skipWhitespace();
    if (this.atEnd() || this.peek() === ',') {
      this.paramsAfterComma(challenge);
      return;
    }

    TOKEN68.lastIndex = this.pos;
    const token68 = TOKEN68.exec(this.s);
    if (token68) {
      const after = this.pos + token68[0].length;
      let next = after;
      while (next < this.s.length && isWhitespace(this.s.charCodeAt(next))) next++;
      if (next === this.s.length || this.s[next] === ',') {
        challenge.token68 = token68[0];
        this.pos = next;
        return;
      }
    }
    this.params(challenge);
  }

  // At a param (not a comma): read params until the line ends or a new challenge begins.
  params(challenge: Challenge): void {
    for (;;) {
      this.param(challenge);
      this.skipWhitespace();
      if (this.atEnd()) return;
      if (this.peek() !== ',') throw new SyntaxFailure(`expected comma at ${this.pos}`, this.pos);
      if (!this.paramFollows()) return;
    }
  }

  // At the end of a line or a comma: continue with params only if a param comes next.
  paramsAfterComma(challenge: Challenge): void {
    if (this.paramFollows()) this.params(challenge);
  }

  // Consumes the commas; true when the next element is `token BWS "="`, i.e. another param.
  paramFollows(): boolean {
    this.skipListSeparators();
    if (this.atEnd()) return false;
    let q = this.pos;
    while (q < this.s.length && isTchar(this.s.charCodeAt(q))) q++;
    if (q === this.pos) return true; // not a token at all: let param() report it
    while (q < this.s.length && isWhitespace(this.s.charCodeAt(q))) q++;
    return this.s[q] === '=';
  }

  param(challenge: Challenge): void {
    const nameAt = this.pos;
    const name = this.token().toLowerCase();
    if (name === '') throw new SyntaxFailure(`expected auth-param at ${nameAt}`, nameAt);
    this.skipWhitespace();
    if (this.peek() !== '=') throw new SyntaxFailure(`expected "=" at ${this.pos}`, this.pos);
    this.pos++;
    this.skipWhitespace();
    let value: string;
    let quoted = false;
    if (this.peek() === '"') {
      value = this.quotedString();
      quoted = true;
    } else {
      const valueAt = this.pos;
      value = this.token();
      if (value === '') throw new SyntaxFailure(`empty auth-param value at ${valueAt}`, valueAt);
    }
    if (Object.hasOwn(challenge.params, name)) throw new SyntaxFailure(`duplicate auth-param ${name}`);
    // An unquoted value that runs into a character tokens cannot hold (`realm=https://...`) was cut short;
    // keeping the fragment would be worse than keeping nothing.
    if (!quoted && !this.atEnd() && this.peek() !== ',' && !isWhitespace(this.s.charCodeAt(this.pos))) {
      throw new SyntaxFailure(`expected comma at ${this.pos}`, this.pos);
    }
    challenge.params[name] = value;
  }

  quotedString(): string {
    let out = '';
    let i = this.pos + 1;
    while (i < this.s.length) {
      const code = this.s.charCodeAt(i);
      if (code === 0x22) {
        this.pos = i + 1;
        return out;
      }
      if (code === 0x5c) {
        if (i + 1 >= this.s.length) break;
        const escaped = this.s.charCodeAt(i + 1);
        if (!isQuotable(escaped)) throw new SyntaxFailure(`invalid quoted-pair at ${i}`, i);
        out += this.s[i + 1];
        i += 2;
        continue;
      }
      if (!isQdtext(code)) throw new SyntaxFailure(`invalid character in quoted-string at ${i}`, i);
      out += this.s[i];
      i++;
    }
    throw new SyntaxFailure('unterminated quoted-string');
  }
}

/**
 * Parses one or more WWW-Authenticate field values into challenges, keeping what is valid and reporting
 * the first syntax error of each line. Never throws.
 */
export function parseWwwAuthenticateDetailed(value: unknown): ParsedWwwAuthenticate {
  const lines: unknown[] = Array.isArray(value)
    ? value
    : value === undefined || value === null
      ? []
      : [value];
  const result: ParsedWwwAuthenticate = { challenges: [], issues: [] };
  lines.forEach((line, index) => {
    if (typeof line !== 'string') {
      result.issues.push({ line: index, message: 'not a string' });
      return;
    }
    const parser = new LineParser(line);
    try {
      parser.parse();
      if (parser.challenges.length === 0) result.issues.push({ line: index, message: 'no challenge' });
    } catch (error) {
      if (!(error instanceof SyntaxFailure)) throw error;
      const issue: ChallengeSyntaxIssue = { line: index, message: `RFC 7235 parse error: ${error.message}` };
      if (error.offset !== undefined) issue.offset = error.offset;
      result.issues.push(issue);
    }
    result.challenges.push(...parser.challenges);
  });
  return result;
}

/** Every challenge in one or more WWW-Authenticate values. Never throws; malformed parts are left out. */
export function parseWwwAuthenticate(value: string | readonly string[]): Challenge[] {
  return parseWwwAuthenticateDetailed(value).challenges;
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * One challenge as a field value: `scheme token68` or `scheme name="value", ...`. Throws
 * ChallengeFormatError for anything that could not be parsed back (and so could inject a header).
 */
export function formatChallenge(challenge: Challenge): string {
  if (!TOKEN.test(challenge.scheme))
    throw new ChallengeFormatError('scheme', 'the scheme must be an RFC 7230 token');
  const entries = Object.entries(challenge.params);
  if (challenge.token68 !== undefined) {
    if (entries.length > 0)
      throw new ChallengeFormatError('token68', 'a challenge has either token68 or params');
    if (!TOKEN68_WHOLE.test(challenge.token68)) throw new ChallengeFormatError('token68', 'not a token68');
    return `${challenge.scheme} ${challenge.token68}`;
  }
  if (entries.length === 0) return challenge.scheme;
  const params = entries.map(([name, value]) => {
    if (!TOKEN.test(name)) throw new ChallengeFormatError('params', 'a param name must be an RFC 7230 token');
    for (let i = 0; i < value.length; i++) {
      if (!isQuotable(value.charCodeAt(i))) {
        throw new ChallengeFormatError('params', `param ${name} holds a control character`);
      }
    }
    return `${name}=${quote(value)}`;
  });
  return `${challenge.scheme} ${params.join(', ')}`;
}

/** Several challenges in one field value. */
export function formatChallenges(challenges: readonly Challenge[]): string {
  return challenges.map(formatChallenge).join(', ');
}

export function findChallenge(challenges: readonly Challenge[], scheme: string): Challenge | undefined {
  const wanted = scheme.toLowerCase();
  return challenges.find((c) => c.scheme === wanted);
}

export interface BearerParams {
  realm: string;
  service?: string;
  /** The challenge's `scope`, split on spaces; undefined when the challenge names none. */
  scope?: string[];
  /** `invalid_token`, `insufficient_scope`, ... */
  error?: string;
}

/** The first Bearer challenge that has a realm, or undefined (a realm-less Bearer cannot be answered). */
export function bearerParams(challenges: readonly Challenge[]): BearerParams | undefined {
  const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params['realm']);
  if (!bearer) return undefined;
  const { realm, service, scope, error } = bearer.params;
  const result: BearerParams = { realm: realm! };
  if (service !== undefined) result.service = service;
  if (scope !== undefined) result.scope = scope.split(' ').filter((s) => s !== '');
  if (error !== undefined) result.error = error;
  return result;
}

/** The realm of the first Basic challenge ('' when it has none), or undefined when no Basic challenge exists. */
export function basicRealm(challenges: readonly Challenge[]): string | undefined {
  const basic = findChallenge(challenges, 'basic');
  return basic ? (basic.params['realm'] ?? '') : undefined;
}
