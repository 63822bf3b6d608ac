import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidScopeError } from '../../../protocol/errors.ts';
import {
  formatScope,
  mergeScopes,
  parseScope,
  parseScopeList,
  repositoryScope,
  type Scope,
  scopeCovers,
  scopeKey,
  scopeStrings,
} from '../../../protocol/scope.ts';

describe('parseScope', () => {
  it.each<[string, Scope]>([
    ['repository:foo/bar:pull,push', { type: 'repository', name: 'foo/bar', actions: ['pull', 'push'] }],
    ['repository:foo/bar:push,pull,pull', { type: 'repository', name: 'foo/bar', actions: ['pull', 'push'] }],
    ['registry:catalog:*', { type: 'registry', name: 'catalog', actions: ['*'] }],
    ['repository:host:5000/x:pull', { type: 'repository', name: 'host:5000/x', actions: ['pull'] }],
    ['repository(plugin):a/b:pull', { type: 'repository', class: 'plugin', name: 'a/b', actions: ['pull'] }],
    ['repository:a:pull,*', { type: 'repository', name: 'a', actions: ['*'] }],
    [
      'repository:foo-docker/Test/cp5:delete',
      { type: 'repository', name: 'foo-docker/Test/cp5', actions: ['delete'] },
    ],
  ])('%s', (input, expected) => {
    expect(parseScope(input)).toEqual(expected);
  });

  it.each([
    ['foo:bar', 'scope'],
    ['repository', 'scope'],
    [':a:pull', 'type'],
    ['Repository:a:pull', 'type'],
    ['repository(:a:pull', 'type'],
    ['repository::pull', 'name'],
    ['repository:a b:pull', 'name'],
    ['repository:a:', 'actions'],
    ['repository:a:,', 'actions'],
    ['repository:a:PULL', 'actions'],
  ])('refuses %j naming the field %s', (input, field) => {
    expect(() => parseScope(input)).toThrow(InvalidScopeError);
    expect(() => parseScope(input)).toThrow(expect.objectContaining({ field }));
  });

  it('parseScopeList keeps what does not parse as opaque', () => {
    expect(parseScopeList('repository:a:pull  foo:bar repository:b:push')).toEqual({
      scopes: [
        { type: 'repository', name: 'a', actions: ['pull'] },
        { type: 'repository', name: 'b', actions: ['push'] },
      ],
      opaque: ['foo:bar'],
    });
  });
});

describe('formatScope, repositoryScope', () => {
  it('formats with class and normalized actions', () => {
    expect(
      formatScope({ type: 'repository', class: 'plugin', name: 'a', actions: ['push', 'pull', 'pull'] }),
    ).toBe('repository(plugin):a:pull,push');
    expect(formatScope(repositoryScope('127.0.0.1:5000/x', ['push', 'pull']))).toBe(
      'repository:127.0.0.1:5000/x:pull,push',
    );
  });

  it('refuses an empty repository or no actions', () => {
    expect(() => repositoryScope('', ['pull'])).toThrow(InvalidScopeError);
    expect(() => repositoryScope('a', [])).toThrow(InvalidScopeError);
  });

  const scope: fc.Arbitrary<Scope> = fc
    .record({
      type: fc.stringMatching(/^[a-z0-9]{1,10}$/),
      class: fc.option(fc.stringMatching(/^[a-z0-9]{1,6}$/), { nil: undefined }),
      name: fc.stringMatching(/^[a-z0-9:/._-]{1,30}$/),
      actions: fc.array(fc.constantFrom('pull', 'push', 'delete', '*', 'metadata_read'), { minLength: 1 }),
    })
    .map(({ class: cls, ...rest }) => (cls === undefined ? rest : { ...rest, class: cls }));

  it('parseScope(formatScope(x)) is x with normalized actions', () => {
    fc.assert(
      fc.property(scope, (s) => {
        const back = parseScope(formatScope(s));
        expect(back).toEqual({ ...s, actions: mergeScopes([s])[0]!.actions });
      }),
      { numRuns: 1000 },
    );
  });

  it('parseScope throws only InvalidScopeError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        try {
          parseScope(s);
        } catch (error) {
          return error instanceof InvalidScopeError;
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('mergeScopes, scopeKey, scopeCovers', () => {
  const pull = repositoryScope('a', ['pull']);
  const push = repositoryScope('a', ['push']);
  const other = repositoryScope('b', ['pull']);

  it('merges per resource and keeps first-seen order', () => {
    expect(mergeScopes([other, pull], [push])).toEqual([other, repositoryScope('a', ['pull', 'push'])]);
    expect(mergeScopes([{ ...pull, class: 'x' }], [pull])).toHaveLength(2);
  });

  it('does not modify its inputs', () => {
    const input = repositoryScope('a', ['pull']);
    mergeScopes([input], [push]);
    expect(input.actions).toEqual(['pull']);
  });

  it('scopeKey ignores order, duplicates and action order, and keeps opaque scopes', () => {
    expect(scopeKey([push, other, pull])).toBe('repository:a:pull,push repository:b:pull');
    expect(scopeKey(['repository:b:pull repository:a:push,pull'])).toBe(scopeKey([other, pull, push]));
    expect(scopeKey(['foo:bar', pull])).toBe('foo:bar repository:a:pull');
    expect(scopeKey([])).toBe('');
    expect(scopeStrings(['repository:a:push', pull, 'x'])).toEqual(['repository:a:pull,push', 'x']);
  });

  it('scopeKey is invariant under permutation (property)', () => {
    const scopes = fc.array(
      fc.record({
        type: fc.constantFrom('repository', 'registry'),
        name: fc.constantFrom('a', 'b', 'h:5000/c'),
        actions: fc.subarray(['pull', 'push', 'delete'], { minLength: 1 }),
      }),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(scopes, (list) => {
        expect(scopeKey([...list].reverse())).toBe(scopeKey(list));
        expect(scopeKey([...list, ...list])).toBe(scopeKey(list));
      }),
    );
  });

  it('scopeCovers compares actions per resource', () => {
    expect(scopeCovers([repositoryScope('a', ['pull', 'push'])], [pull])).toBe(true);
    expect(scopeCovers([pull], [repositoryScope('a', ['pull', 'push'])])).toBe(false);
    expect(scopeCovers([pull, push], ['repository:a:push,pull'])).toBe(true);
    expect(scopeCovers(['repository:a:*'], [repositoryScope('a', ['delete'])])).toBe(true);
    expect(scopeCovers([pull], [other])).toBe(false);
    expect(scopeCovers([pull], [])).toBe(true);
    expect(scopeCovers(['foo:bar'], ['foo:bar'])).toBe(true);
    expect(scopeCovers([pull], ['foo:bar'])).toBe(false);
  });
});
