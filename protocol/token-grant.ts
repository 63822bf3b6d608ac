// What a token grants, read (never verified) from what the client holds: the token server's `scope` field (OAuth2
// responses), or the `access` claim of a JWT (distribution's jwt.md). Used only to name a partial grant, never to
// decide what to send: the registry alone judges a token.
import { parseScope, parseScopeList, type Scope } from './scope.ts';

/** The scopes granted, or undefined when neither the response nor the token says. Never throws. */
export function grantedScopes(token: string | undefined, scopeField?: string): Scope[] | undefined {
  if (scopeField !== undefined) return parseScopeList(scopeField).scopes;
  if (token === undefined) return undefined;
  return jwtAccess(token);
}

function jwtAccess(token: string): Scope[] | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const access = (claims as { access?: unknown } | null)?.access;
  if (!Array.isArray(access)) return undefined;
  const out: Scope[] = [];
  for (const entry of access) {
    const { type, name, actions } = (entry ?? {}) as Record<string, unknown>;
    if (typeof type !== 'string' || typeof name !== 'string' || !Array.isArray(actions)) continue;
    // Every resource type counts (`registry:catalog:*` as much as `repository:x:pull`): a grant read as
    // "nothing" would refuse what the registry allowed.
    const listed = actions.filter((a): a is string => typeof a === 'string').join(',');
    try {
      out.push(parseScope(`${type}:${name}:${listed}`));
    } catch {
      // An entry that is not a valid scope names nothing the registry could have granted.
    }
  }
  return out;
}
