import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidReferenceError } from '../../../protocol/errors.ts';
import {
  familiarString,
  formatReference,
  parseReference,
  registryHostOf,
} from '../../../protocol/reference.ts';
import { loadVectors } from './vectors.ts';

interface ReferenceVector {
  input: string;
  valid: boolean;
  domain?: string;
  path?: string;
  tag?: string | null;
  digest?: string | null;
  name?: string;
  string?: string;
  familiar?: string;
  error?: string;
}

const { vectors } = loadVectors<{ vectors: ReferenceVector[] }>('reference-vectors.json');

describe('parseReference: shared vectors', () => {
  it('has the vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(50);
  });

  for (const v of vectors.filter((x) => x.valid)) {
    it(`accepts ${JSON.stringify(v.input.slice(0, 80))}`, () => {
      const ref = parseReference(v.input);
      expect(ref.domain).toBe(v.domain);
      expect(ref.path).toBe(v.path);
      expect(ref.tag).toBe(v.tag ?? undefined);
      expect(ref.digest).toBe(v.digest ?? undefined);
      expect(ref.name).toBe(v.name);
      expect(formatReference(ref)).toBe(v.string);
      expect(ref.familiar).toBe(v.familiar);
      expect(ref.canonical).toBe(v.tag == null && v.digest == null ? `${v.string}:latest` : v.string);
    });
  }

  for (const v of vectors.filter((x) => !x.valid)) {
    it(`refuses ${JSON.stringify(v.input.slice(0, 80))} with "${v.error}"`, () => {
      let thrown: unknown;
      try {
        parseReference(v.input);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidReferenceError);
      expect((thrown as InvalidReferenceError).message).toBe(v.error);
    });
  }
});

describe('parseReference: cases beyond the vectors', () => {
  it('applies latest only in canonical', () => {
    const ref = parseReference('alpine');
    expect(ref).toEqual({
      domain: 'docker.io',
      path: 'library/alpine',
      name: 'docker.io/library/alpine',
      familiar: 'alpine',
      canonical: 'docker.io/library/alpine:latest',
    });
  });

  it.each([
    ['', 'empty'],
    ['a'.repeat(64).replace(/a/g, 'f'), 'hex-identifier'],
    ['Alpine', 'uppercase'],
    ['alpine@sha256:abc', 'format'],
    [`alpine@sha256:${'F'.repeat(64)}`, 'digest-format'],
    [`alpine@sha256:${'f'.repeat(63)}0a`, 'digest-length'],
    [`alpine@md5:${'f'.repeat(32)}`, 'digest-unsupported'],
    [`alpine:${'t'.repeat(129)}`, 'format'],
  ])('refuses %j with reason %s', (input, reason) => {
    expect(() => parseReference(input)).toThrow(expect.objectContaining({ reason, field: 'reference' }));
  });

  it('names the offending repository in the uppercase message', () => {
    expect(() => parseReference('Alpine')).toThrow('repository name (library/Alpine) must be lowercase');
  });

  it('accepts sha512 digests', () => {
    const digest = `sha512:${'a'.repeat(128)}`;
    expect(parseReference(`registry.example.com/x@${digest}`).digest).toBe(digest);
  });

  it('maps index.docker.io and keeps library/ for nested official paths', () => {
    expect(parseReference('index.docker.io/alpine:3.20').canonical).toBe('docker.io/library/alpine:3.20');
    expect(parseReference('docker.io/library/a/b').familiar).toBe('library/a/b');
  });

  it('keeps host:port and localhost as domains', () => {
    const ref = parseReference('127.0.0.1:5000/small:1');
    expect([ref.domain, ref.path, ref.tag, ref.canonical]).toEqual([
      '127.0.0.1:5000',
      'small',
      '1',
      '127.0.0.1:5000/small:1',
    ]);
    expect(parseReference('localhost/x').domain).toBe('localhost');
    expect(parseReference('localhost:5000/x').domain).toBe('localhost:5000');
  });

  it('helpers: registryHostOf, familiarString', () => {
    expect(registryHostOf('docker.io')).toBe('registry-1.docker.io');
    expect(registryHostOf('index.docker.io')).toBe('registry-1.docker.io');
    expect(registryHostOf('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(familiarString({ domain: 'docker.io', path: 'me/app', tag: 'v1' })).toBe('me/app:v1');
  });
});

describe('parseReference: properties', () => {
  it('throws only InvalidReferenceError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        try {
          parseReference(s);
        } catch (error) {
          return error instanceof InvalidReferenceError;
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('throws only InvalidReferenceError on reference-like strings', () => {
    const alphabet = fc.constantFrom(...'abcAZ019._-/:@[]'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 80 }), (s) => {
        try {
          parseReference(s);
        } catch (error) {
          return error instanceof InvalidReferenceError;
        }
        return true;
      }),
      { numRuns: 3000 },
    );
  });

  const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}$/);
  const generated = fc.record({
    domain: fc.constantFrom(
      'docker.io',
      'ghcr.io',
      'localhost',
      '127.0.0.1:5000',
      '[::1]:5000',
      'reg.example.com',
    ),
    path: fc.array(component, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/')),
    tag: fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/), { nil: undefined }),
    digest: fc.option(
      fc.stringMatching(/^[a-f0-9]{64}$/).map((hex) => `sha256:${hex}`),
      { nil: undefined },
    ),
  });

  // Docker's own quirk: `docker.io/a.b/c` prints as `a.b/c`, which then reads as domain `a.b`.
  const familiarIsAmbiguous = (ref: { domain: string; familiar: string }) =>
    ref.domain === 'docker.io' && /^(?:[^/]*[.:]|localhost)[^/]*\//.test(ref.familiar);

  it('canonical and familiar strings parse back to the same reference', () => {
    fc.assert(
      fc.property(generated, (parts) => {
        const path =
          parts.domain === 'docker.io' && !parts.path.includes('/') ? `library/${parts.path}` : parts.path;
        const ref = parseReference(formatReference({ ...parts, path }));
        expect(ref.path).toBe(path);
        expect(ref.domain).toBe(parts.domain);
        expect(parseReference(ref.canonical).canonical).toBe(ref.canonical);
        if (!familiarIsAmbiguous(ref)) expect(parseReference(ref.familiar)).toEqual(ref);
      }),
      { numRuns: 500 },
    );
  });

  it('stays fast on long adversarial input', () => {
    const start = performance.now();
    for (const s of [
      `${'a'.repeat(5000)}!`,
      `${'a-'.repeat(3000)}`,
      `${'a.'.repeat(3000)}/x`,
      `x/${'a__'.repeat(3000)}:`,
      `${'a'.repeat(3000)}:${'b'.repeat(3000)}`,
    ]) {
      expect(() => parseReference(s)).toThrow(InvalidReferenceError);
    }
    expect(performance.now() - start).toBeLessThan(2000);
  });
});
