import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findLink, parseLinkHeader } from '../../../protocol/link-header.ts';

describe('parseLinkHeader (RFC 8288)', () => {
  it("reads distribution's next link", () => {
    const links = parseLinkHeader('</v2/_catalog?last=b&n=2>; rel="next"');
    expect(links).toEqual([{ target: '/v2/_catalog?last=b&n=2', rel: ['next'], params: {} }]);
    expect(findLink(links, 'next')).toBe('/v2/_catalog?last=b&n=2');
  });

  it('reads several link-values, unquoted and multi-valued rel, any case, and other params', () => {
    const links = parseLinkHeader(
      '<https://r.example/v2/a/tags/list?last=1,2>; rel=prev, <./list?last=9>;REL="Next last" ; title="a \\"b\\", c"',
    );
    expect(links).toEqual([
      { target: 'https://r.example/v2/a/tags/list?last=1,2', rel: ['prev'], params: {} },
      { target: './list?last=9', rel: ['next', 'last'], params: { title: 'a "b", c' } },
    ]);
    expect(findLink(links, 'NEXT')).toBe('./list?last=9');
  });

  it('takes the first rel of a link-value and the first occurrence of other params', () => {
    const [link] = parseLinkHeader('<a>; rel=next; rel=prev; x=1; x=2');
    expect(link).toEqual({ target: 'a', rel: ['next'], params: { x: '1' } });
  });

  it('reads several header lines', () => {
    const links = parseLinkHeader(['<a>; rel=prev', '<b>; rel=next']);
    expect(findLink(links, 'next')).toBe('b');
  });

  it('drops a malformed link-value and keeps the ones after it', () => {
    const links = parseLinkHeader('nonsense; rel=next, <a> junk, "q,uoted", <b>; rel="next"');
    expect(links.map((l) => l.target)).toEqual(['b']);
    expect(parseLinkHeader('<unterminated; rel=next')).toEqual([]);
    expect(parseLinkHeader('')).toEqual([]);
    expect(parseLinkHeader(undefined)).toEqual([]);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...' \t,;="\\<>/?relnxt'.split('')), maxLength: 120 }),
        (value) => {
          expect(Array.isArray(parseLinkHeader(value))).toBe(true);
        },
      ),
    );
  });
});
