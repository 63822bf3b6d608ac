// Scope strings of the distribution token spec: `type[(class)]:name:action[,action]`, several joined by spaces.
// The name may hold one ':' (a registry host:port), so the type ends at the first ':' and the actions start after
// the last one.

export interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** Who may do what: the actions allowed for `user` (undefined = anonymous) on resource `name` of `type`. */
export type Policy = (user: string | undefined, name: string, type: string) => readonly string[];

/** Users get pull and push everywhere except under `deny/`; anonymous callers may only pull under `public/`. */
export const defaultPolicy: Policy = (user, name, type) => {
  if (type === 'registry') return user === undefined ? [] : ['*'];
  if (type !== 'repository') return [];
  if (name.startsWith('deny/')) return [];
  if (user !== undefined) return ['pull', 'push'];
  return name.startsWith('public/') ? ['pull'] : [];
};

/** Splits space-separated scope lists (each may hold several) into parsed scopes; malformed ones are dropped. */
export function parseScopes(values: readonly string[]): Access[] {
  const out: Access[] = [];
  for (const value of values) {
    for (const scope of value.split(' ')) {
      const parsed = parseScope(scope);
      if (parsed) out.push(parsed);
    }
  }
  return out;
}

export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((action) => action !== '');
  if (name === '') return undefined;
  return { type, name, actions };
}

export function formatScope(access: Access): string {
  return `${access.type}:${access.name}:${access.actions.join(',')}`;
}

/**
 * The grant for each asked scope: the intersection of asked and allowed actions, never an error (a partial or
 * empty grant is still a 200, as Portus and Docker Hub do). `*` allowed means everything asked.
 */
export function grant(asked: readonly Access[], user: string | undefined, policy: Policy): Access[] {
  const merged = new Map<string, Access>();
  for (const access of asked) {
    const key = `${access.type}\u0000${access.name}`;
    const entry = merged.get(key) ?? { type: access.type, name: access.name, actions: [] };
    for (const action of access.actions) if (!entry.actions.includes(action)) entry.actions.push(action);
    merged.set(key, entry);
  }
  return [...merged.values()].map((access) => {
    const allowed = policy(user, access.name, access.type);
    const actions = allowed.includes('*')
      ? access.actions
      : access.actions.filter((action) => allowed.includes(action));
    return { type: access.type, name: access.name, actions };
  });
}
