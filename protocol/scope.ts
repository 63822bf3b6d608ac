// Token scopes (distribution docs/spec/auth/scope.md):
//
//   scope         := resourcescope [ ' ' resourcescope ]*
//   resourcescope := resourcetype ":" resourcename ":" action [ ',' action ]*
//   resourcetype  := resourcetypevalue [ '(' resourcetypevalue ')' ]
//
// The name may itself hold a ':' (a registry port), so the type ends at the first ':' and the actions
// start after the last one. Actions are kept sorted and unique, and `*` stands for all of them, so two
// requests for the same access produce the same cache key.
import { InvalidScopeError } from './errors.ts';

export interface Scope {
  /** `repository`, `registry`, ... */
  type: string;
  /** The deprecated resource class of `repository(plugin):name:pull`; kept so it can be sent back verbatim. */
  class?: string;
  name: string;
  /** Sorted, unique; `['*']` when all actions are wanted. */
  actions: string[];
}

/** A parsed scope, or a scope string as a server sent it (kept opaque when it does not parse). */
export type ScopeInput = Scope | string;

const TYPE = /^([a-z0-9]+)(?:\(([a-z0-9]+)\))?$/;
const ACTION = /^(?:\*|[a-z][a-z0-9_-]*)$/;
// Names are opaque to the client (Artifactory and friends use their own), but never hold separators of the
// scope list itself or control characters.
const NAME = /^[^\s\u0000-\u001f\u007f]+$/;

/** Sorted, unique actions; `*` absorbs the rest. */
export function normalizeActions(actions: readonly string[]): string[] {
  const unique = [...new Set(actions.filter((a) => a !== ''))].sort();
  return unique.includes('*') ? ['*'] : unique;
}

function checkName(name: string): void {
  if (name === '') throw new InvalidScopeError('name', 'empty', 'scope resource name is empty');
  if (!NAME.test(name)) {
    throw new InvalidScopeError(
      'name',
      'invalid-character',
      'scope resource name holds whitespace or a control character',
    );
  }
}

function checkActions(actions: readonly string[]): void {
  const bad = actions.find((a) => !ACTION.test(a));
  if (bad !== undefined) {
    throw new InvalidScopeError(
      'actions',
      'invalid-action',
      `scope action ${JSON.stringify(bad.slice(0, 40))} is not valid`,
    );
  }
  if (actions.length === 0) throw new InvalidScopeError('actions', 'empty', 'scope has no action');
}

/** Parses one resource scope (`repository:foo/bar:pull,push`); throws InvalidScopeError. */
export function parseScope(s: string): Scope {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first === -1 || first === last) {
    throw new InvalidScopeError('scope', 'format', 'a scope has the form type:name:actions');
  }
  const typeMatch = TYPE.exec(s.slice(0, first));
  if (!typeMatch)
    throw new InvalidScopeError(
      'type',
      'format',
      'scope resource type must be [a-z0-9]+ with an optional (class)',
    );
  const name = s.slice(first + 1, last);
  checkName(name);
  const actions = normalizeActions(s.slice(last + 1).split(','));
  checkActions(actions);
  const scope: Scope = { type: typeMatch[1]!, name, actions };
  if (typeMatch[2] !== undefined) scope.class = typeMatch[2];
  return scope;
}

/** Parses a space-separated scope list (a challenge's `scope`); what does not parse is returned as is. */
export function parseScopeList(value: string): { scopes: Scope[]; opaque: string[] } {
  const scopes: Scope[] = [];
  const opaque: string[] = [];
  for (const part of value.split(' ')) {
    if (part === '') continue;
    try {
      scopes.push(parseScope(part));
    } catch (error) {
      if (!(error instanceof InvalidScopeError)) throw error;
      opaque.push(part);
    }
  }
  return { scopes, opaque };
}

export function formatScope(scope: Scope): string {
  const type = scope.class === undefined ? scope.type : `${scope.type}(${scope.class})`;
  return `${type}:${scope.name}:${normalizeActions(scope.actions).join(',')}`;
}

/** `repository:<repo>:<actions>`, the scope a pull (`pull`) or push (`pull,push`) needs. */
export function repositoryScope(repository: string, actions: readonly string[]): Scope {
  checkName(repository);
  const normalized = normalizeActions(actions);
  checkActions(normalized);
  return { type: 'repository', name: repository, actions: normalized };
}

function resourceKey(scope: Scope): string {
  return `${scope.type}(${scope.class ?? ''}):${scope.name}`;
}

/**
 * The union of scope lists: one entry per resource (type, class, name) with the union of its actions.
 * Resources keep the order they first appear in, so a caller can put the scope a registry asked for first
 * (some token servers only read the first scope).
 */
export function mergeScopes(...lists: readonly (readonly Scope[])[]): Scope[] {
  const byResource = new Map<string, Scope>();
  for (const scope of lists.flat()) {
    const key = resourceKey(scope);
    const existing = byResource.get(key);
    if (existing) {
      existing.actions = normalizeActions([...existing.actions, ...scope.actions]);
    } else {
      const copy: Scope = { type: scope.type, name: scope.name, actions: normalizeActions(scope.actions) };
      if (scope.class !== undefined) copy.class = scope.class;
      byResource.set(key, copy);
    }
  }
  return [...byResource.values()];
}

function split(inputs: readonly ScopeInput[]): { scopes: Scope[]; opaque: string[] } {
  const scopes: Scope[] = [];
  const opaque: string[] = [];
  for (const input of inputs) {
    if (typeof input !== 'string') {
      scopes.push(input);
      continue;
    }
    const parsed = parseScopeList(input);
    scopes.push(...parsed.scopes);
    opaque.push(...parsed.opaque);
  }
  return { scopes, opaque };
}

/** Scope strings as sent to a token server: merged, one per resource, opaque strings kept. */
export function scopeStrings(inputs: readonly ScopeInput[]): string[] {
  const { scopes, opaque } = split(inputs);
  return [...new Set([...mergeScopes(scopes).map(formatScope), ...opaque])];
}

/** A stable key for a set of scopes, independent of order, duplicates and action order. */
export function scopeKey(inputs: readonly ScopeInput[]): string {
  return scopeStrings(inputs).sort().join(' ');
}

/** True when a token granted `granted` is enough for `wanted` (same resources, a superset of actions). */
export function scopeCovers(granted: readonly ScopeInput[], wanted: readonly ScopeInput[]): boolean {
  const have = split(granted);
  const want = split(wanted);
  const haveByResource = new Map(mergeScopes(have.scopes).map((s) => [resourceKey(s), s.actions]));
  const coveredScopes = mergeScopes(want.scopes).every((scope) => {
    const actions = haveByResource.get(resourceKey(scope));
    return (
      actions !== undefined && (actions.includes('*') || scope.actions.every((a) => actions.includes(a)))
    );
  });
  return coveredScopes && want.opaque.every((s) => have.opaque.includes(s));
}
