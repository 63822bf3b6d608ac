// How a front in a given mode bends the registry's auth answers, imitating registries in the wild.
// Only challenges written by registry 2.8 pass through here, so a small param rewriter is enough.

export type FrontMode =
  /** Proxy everything unchanged (counts requests). */
  | 'passthrough'
  /** GET|HEAD /v2/ answers 200 `{}` while repositories still challenge (skopeo issue 192). */
  | 'v2-open'
  /** Bearer scopes name the repository without its first path component (Artifactory); one-component names stay. */
  | 'wrong-scope'
  /** Pull challenges ask `pull,push`; after `insufficient_scope` the realm switches to altRealm (nvcr.io). */
  | 'pull-push-scope'
  /** Challenges lose their `service` param. */
  | 'no-service'
  /** 401 without WWW-Authenticate. */
  | 'no-www-authenticate'
  /** 401 on repository requests becomes 403 DENIED without a challenge (the /v2/ ping still gets its 401). */
  | 'forbidden';

export const FRONT_MODES: readonly FrontMode[] = [
  'passthrough',
  'v2-open',
  'wrong-scope',
  'pull-push-scope',
  'no-service',
  'no-www-authenticate',
  'forbidden',
];

const PARAM = /([A-Za-z_]+)="((?:[^"\\]|\\.)*)"/g;

/** Applies `edit` to each quoted param of a challenge; returning undefined drops the param. */
export function editParams(
  challenge: string,
  edit: (name: string, value: string) => string | undefined,
): string {
  const out = challenge.replace(PARAM, (_all, name: string, value: string) => {
    const next = edit(name.toLowerCase(), value);
    return next === undefined ? '\u0000' : `${name}="${next}"`;
  });
  // Remove dropped params together with one adjacent comma.
  return out.replace(/,\u0000|\u0000,?/g, '');
}

function editScopes(value: string, edit: (type: string, name: string, actions: string) => string): string {
  return value
    .split(' ')
    .map((scope) => {
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first <= 0 || last === first) return scope;
      return edit(scope.slice(0, first), scope.slice(first + 1, last), scope.slice(last + 1));
    })
    .join(' ');
}

export interface ModeContext {
  /** Realm a pull-push-scope front names after an insufficient_scope. */
  altRealm: string | undefined;
  /** Origin of the real registry and of the front, to keep absolute URLs on the front. */
  targetOrigin: string;
  frontOrigin: string;
}

/** Rewrites one WWW-Authenticate line for the mode. */
export function rewriteChallenge(line: string, mode: FrontMode, context: ModeContext): string {
  const insufficient = /error="insufficient_scope"/.test(line);
  return editParams(line, (name, value) => {
    if (name === 'realm' && value.startsWith(context.targetOrigin)) {
      value = context.frontOrigin + value.slice(context.targetOrigin.length);
    }
    if (mode === 'no-service' && name === 'service') return undefined;
    if (mode === 'wrong-scope' && name === 'scope') {
      return editScopes(value, (type, repo, actions) => {
        const slash = repo.indexOf('/');
        return type === 'repository' && slash > 0
          ? `${type}:${repo.slice(slash + 1)}:${actions}`
          : `${type}:${repo}:${actions}`;
      });
    }
    if (mode === 'pull-push-scope') {
      if (name === 'scope') {
        return editScopes(value, (type, repo, actions) =>
          type === 'repository' && actions === 'pull'
            ? `${type}:${repo}:pull,push`
            : `${type}:${repo}:${actions}`,
        );
      }
      if (name === 'realm' && insufficient && context.altRealm) return context.altRealm;
    }
    return value;
  });
}
