import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChallengeFormatError } from '../../../protocol/errors.ts';
import {
  basicRealm,
  bearerParams,
  type Challenge,
  findChallenge,
  formatChallenge,
  formatChallenges,
  parseWwwAuthenticate,
  parseWwwAuthenticateDetailed,
} from '../../../protocol/www-authenticate.ts';
import { loadVectors } from './vectors.ts';

interface ChallengeVector {
  header: string | string[];
  expected: Challenge[] | { error: string };
  kind: string;
  note?: string;
}

const { vectors } = loadVectors<{ vectors: ChallengeVector[] }>('challenge-vectors.json');

// What the lenient result keeps for each malformed vector: the params that were complete before the error.
const KEPT_ON_ERROR: Record<string, Challenge[]> = {
  'RFC 7235 parse error: expected comma at 116': [
    {
      scheme: 'bearer',
      params: {
        realm: 'https://registry.suse.com/auth',
        service: 'SUSE Linux Docker Registry',
        scope: 'registry:catalog:*,error=',
      },
    },
  ],
  'no challenge': [],
  'RFC 7235 parse error: empty auth-param value at 53': [
    { scheme: 'bearer', params: { realm: 'https://auth.example.io/token' } },
  ],
  'RFC 7235 parse error: unterminated quoted-string': [],
  'RFC 7235 parse error: expected SP after scheme at 5': [],
  'RFC 7235 parse error: duplicate auth-param realm': [
    { scheme: 'bearer', params: { realm: 'https://auth.example.com/token' } },
  ],
};

describe('parseWwwAuthenticate: shared vectors (RFC 7235 reading)', () => {
  it('has the vectors', () => {
    expect(vectors.length).toBe(36);
  });

  vectors.forEach((v, index) => {
    const label = `#${index} ${JSON.stringify(v.header).slice(0, 90)}`;
    if (Array.isArray(v.expected)) {
      const expected = v.expected;
      it(`parses ${label}`, () => {
        const parsed = parseWwwAuthenticateDetailed(v.header);
        expect(parsed.issues).toEqual([]);
        expect(parsed.challenges).toEqual(expected);
        expect(parseWwwAuthenticate(v.header)).toEqual(expected);
      });
    } else {
      const { error } = v.expected;
      it(`reports "${error}" for ${label}`, () => {
        const parsed = parseWwwAuthenticateDetailed(v.header);
        expect(parsed.issues.map((issue) => issue.message)).toEqual([error]);
        if (error !== 'unterminated quoted-string' && error.includes(' at ')) {
          expect(parsed.issues[0]!.offset).toBe(Number(error.split(' at ').at(-1)));
        }
        const kept = KEPT_ON_ERROR[error];
        if (error.includes('unterminated')) {
          // The unterminated value is dropped; the challenge and the params before it stay.
          expect(parsed.challenges).toHaveLength(1);
          expect(parsed.challenges[0]!.scheme).toBe('bearer');
          expect(Object.values(parsed.challenges[0]!.params)).not.toContain('registry');
        } else {
          expect(parsed.challenges).toEqual(kept);
        }
      });
    }
  });
});

describe('parseWwwAuthenticate: RFC 7235 details', () => {
  it('reads several challenges in one value, token68 and params mixed', () => {
    expect(
      parseWwwAuthenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'),
    ).toEqual([
      { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'basic', params: { realm: 'simple' } },
    ]);
    expect(parseWwwAuthenticate('Negotiate YII=, Basic realm=x, Bearer realm="r",scope="a b"')).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'YII=' },
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'r', scope: 'a b' } },
    ]);
  });

  it('lower-cases scheme and param names but keeps value case', () => {
    expect(parseWwwAuthenticate('BeArEr ReAlM="HTTPS://A/B"')).toEqual([
      { scheme: 'bearer', params: { realm: 'HTTPS://A/B' } },
    ]);
  });

  it('allows empty list elements and tabs as whitespace', () => {
    expect(parseWwwAuthenticate(' , Basic\t realm="a" ,, ,Bearer realm="b",,')).toEqual([
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'b' } },
    ]);
    expect(parseWwwAuthenticate('Basic , realm="a"')).toEqual([{ scheme: 'basic', params: { realm: 'a' } }]);
  });

  it('a comma right after the scheme ends that challenge', () => {
    const parsed = parseWwwAuthenticateDetailed('Basic, realm="a"');
    expect(parsed.challenges).toEqual([{ scheme: 'basic', params: {} }]);
    expect(parsed.issues[0]!.message).toBe('RFC 7235 parse error: expected SP after scheme at 12');
  });

  it('drops an unquoted value that was cut short', () => {
    const parsed = parseWwwAuthenticateDetailed('Bearer service=reg,realm=https://auth/token');
    expect(parsed.challenges).toEqual([{ scheme: 'bearer', params: { service: 'reg' } }]);
    expect(parsed.issues[0]!.message).toBe('RFC 7235 parse error: expected comma at 30');
  });

  it('reports issues per line and keeps the other lines', () => {
    const parsed = parseWwwAuthenticateDetailed(['Bearer realm="x', 'Basic realm="ok"', '']);
    expect(parsed.challenges).toEqual([
      { scheme: 'bearer', params: {} },
      { scheme: 'basic', params: { realm: 'ok' } },
    ]);
    expect(parsed.issues).toEqual([
      { line: 0, message: 'RFC 7235 parse error: unterminated quoted-string' },
      { line: 2, message: 'no challenge' },
    ]);
  });

  it('refuses control characters in quoted strings and bad quoted-pairs', () => {
    expect(parseWwwAuthenticateDetailed('Basic realm="a\u0001b"').issues[0]!.message).toBe(
      'RFC 7235 parse error: invalid character in quoted-string at 14',
    );
    expect(parseWwwAuthenticateDetailed('Basic realm="a\\\u0000"').issues[0]!.message).toBe(
      'RFC 7235 parse error: invalid quoted-pair at 14',
    );
  });

  it('reports a param without "=" and a stray quote', () => {
    expect(parseWwwAuthenticateDetailed('Basic foo bar').issues[0]!.message).toBe(
      'RFC 7235 parse error: expected "=" at 10',
    );
    expect(parseWwwAuthenticateDetailed('Basic a=b, "x"').issues[0]!.message).toBe(
      'RFC 7235 parse error: expected auth-param at 11',
    );
    expect(parseWwwAuthenticateDetailed('"x"').issues[0]!.message).toBe(
      'RFC 7235 parse error: expected auth-scheme at 0',
    );
  });

  it('keeps __proto__ and constructor as plain params', () => {
    const [challenge] = parseWwwAuthenticate('Bearer __proto__="x", constructor="y"');
    expect(Object.getOwnPropertyDescriptor(challenge!.params, '__proto__')?.value).toBe('x');
    expect(challenge!.params['constructor']).toBe('y');
    expect(Object.keys(challenge!.params)).toEqual(['__proto__', 'constructor']);
  });

  it('answers undefined, null and non-strings without throwing', () => {
    expect(parseWwwAuthenticate(undefined as unknown as string)).toEqual([]);
    expect(parseWwwAuthenticateDetailed(null).challenges).toEqual([]);
    expect(parseWwwAuthenticateDetailed([42, 'Basic']).challenges).toEqual([{ scheme: 'basic', params: {} }]);
    expect(parseWwwAuthenticateDetailed({}).issues[0]!.message).toBe('not a string');
  });

  it('stays linear on long adversarial input', () => {
    const start = performance.now();
    for (const s of [
      `Bearer ${'a=b,'.repeat(50_000)}`,
      `Bearer a="${'\\"'.repeat(100_000)}`,
      `${'x, '.repeat(50_000)}`,
      `Basic ${'='.repeat(100_000)}`,
      `Basic ${'a'.repeat(100_000)} `,
    ]) {
      parseWwwAuthenticate(s);
    }
    expect(performance.now() - start).toBeLessThan(2000);
  });
});

describe('helpers', () => {
  const challenges = parseWwwAuthenticate([
    'Basic realm="Registry Realm"',
    'Bearer realm="https://auth.example.com/token",service="reg",scope="repository:a:pull  repository:b:push",error="insufficient_scope"',
  ]);

  it('bearerParams splits scope on spaces', () => {
    expect(bearerParams(challenges)).toEqual({
      realm: 'https://auth.example.com/token',
      service: 'reg',
      scope: ['repository:a:pull', 'repository:b:push'],
      error: 'insufficient_scope',
    });
    expect(bearerParams(parseWwwAuthenticate('Bearer realm="r"'))).toEqual({ realm: 'r' });
    expect(bearerParams(parseWwwAuthenticate('Bearer service="x", Bearer realm="r2"'))).toEqual({
      realm: 'r2',
    });
    expect(bearerParams(parseWwwAuthenticate('Basic realm="r"'))).toBeUndefined();
  });

  it('basicRealm and findChallenge', () => {
    expect(basicRealm(challenges)).toBe('Registry Realm');
    expect(basicRealm(parseWwwAuthenticate('Basic'))).toBe('');
    expect(basicRealm(parseWwwAuthenticate('Bearer realm="x"'))).toBeUndefined();
    expect(findChallenge(challenges, 'BEARER')?.params['service']).toBe('reg');
  });

  it('formatChallenge quotes and escapes, and refuses what would not parse back', () => {
    expect(formatChallenge({ scheme: 'bearer', params: { realm: 'a"b\\c', service: 'd' } })).toBe(
      'bearer realm="a\\"b\\\\c", service="d"',
    );
    expect(formatChallenge({ scheme: 'basic', params: {} })).toBe('basic');
    expect(formatChallenge({ scheme: 'negotiate', params: {}, token68: 'abc==' })).toBe('negotiate abc==');
    const unformattable: Challenge[] = [
      { scheme: 'bear er', params: {} },
      { scheme: 'bearer', params: { realm: 'x\r\nSet-Cookie: a=b' } },
      { scheme: 'bearer', params: { 're alm': 'x' } },
      { scheme: 'negotiate', params: {}, token68: 'a b' },
      { scheme: 'negotiate', params: { a: 'b' }, token68: 'abc' },
    ];
    for (const bad of unformattable) {
      expect(() => formatChallenge(bad)).toThrow(ChallengeFormatError);
    }
  });
});

describe('properties', () => {
  const anyInput = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: fc.constantFrom(...' \t,="\\abB=/~r:e'.split('')), maxLength: 120 }),
    fc.array(fc.string({ maxLength: 60 }), { maxLength: 4 }),
    fc.anything(),
  );

  it('never throws, and every challenge it returns is well-formed', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const parsed = parseWwwAuthenticateDetailed(input);
        for (const c of parsed.challenges) {
          expect(c.scheme).toMatch(/^[!#$%&'*+\-.^_`|~0-9a-z]+$/);
          for (const name of Object.keys(c.params)) expect(name).toBe(name.toLowerCase());
        }
      }),
      { numRuns: 5000 },
    );
  });

  const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9a-z]{1,12}$/);
  const quotable = fc.oneof(
    fc.constantFrom('"', '\\', ',', '=', ' ', '\t', 'é', '\u00ff', ':', '/'),
    fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  );
  const params = fc
    .uniqueArray(fc.tuple(token, fc.string({ unit: quotable, maxLength: 20 })), {
      selector: ([name]) => name,
      maxLength: 5,
    })
    .map((entries) => Object.fromEntries(entries));
  const challenge: fc.Arbitrary<Challenge> = fc.oneof(
    fc.record({ scheme: token, params }),
    fc.record({
      scheme: token,
      params: fc.constant({}),
      token68: fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,20}={0,2}$/),
    }),
  );

  it('parse(format(x)) is x for one challenge', () => {
    fc.assert(
      fc.property(challenge, (c) => {
        const parsed = parseWwwAuthenticateDetailed(formatChallenge(c));
        expect(parsed.issues).toEqual([]);
        expect(parsed.challenges).toEqual([c]);
      }),
      { numRuns: 2000 },
    );
  });

  it('parse(format(xs)) is xs for several challenges in one value and across lines', () => {
    fc.assert(
      fc.property(fc.array(challenge, { minLength: 1, maxLength: 5 }), (cs) => {
        expect(parseWwwAuthenticate(formatChallenges(cs))).toEqual(cs);
        expect(parseWwwAuthenticate(cs.map(formatChallenge))).toEqual(cs);
      }),
      { numRuns: 1000 },
    );
  });
});
