// The names the image index stores: full normalized references, `domain/path:tag` or `domain/path@digest`,
// exactly as docker.io/library/alpine:3.20 is the normalized form of `alpine:3.20`.
import { parseDigest } from './digest.ts';
import { InvalidArgumentError } from './errors.ts';

export interface StoredRef {
  /** The repository: `docker.io/library/alpine`. */
  name: string;
  tag?: string;
  digest?: string;
}

const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const DOMAIN = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`);
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** Parses a stored reference; refuses familiar forms (`alpine:3.20`) so that every image has one name. */
export function parseStoredRef(ref: string, field = 'ref'): StoredRef {
  if (typeof ref !== 'string' || ref.length === 0) throw new InvalidArgumentError(field, 'empty');
  if (ref.length > 512) throw new InvalidArgumentError(field, 'longer than 512 characters');
  let name: string;
  const out: Partial<StoredRef> = {};
  const at = ref.indexOf('@');
  if (at >= 0) {
    name = ref.slice(0, at);
    out.digest = parseDigest(ref.slice(at + 1), `${field} digest`).value;
  } else {
    const colon = ref.lastIndexOf(':');
    if (colon < ref.lastIndexOf('/') || colon < 0) {
      throw new InvalidArgumentError(field, `"${ref}" has neither a tag nor a digest`);
    }
    name = ref.slice(0, colon);
    out.tag = ref.slice(colon + 1);
    if (!TAG.test(out.tag)) throw new InvalidArgumentError(field, `"${out.tag}" is not a valid tag`);
  }
  const [domain, ...path] = name.split('/');
  const looksLikeDomain =
    domain !== undefined && (domain.includes('.') || domain.includes(':') || domain === 'localhost');
  if (!looksLikeDomain || path.length === 0) {
    throw new InvalidArgumentError(
      field,
      `"${ref}" is not normalized (expected e.g. docker.io/library/alpine:3.20)`,
    );
  }
  if (!DOMAIN.test(domain) || !path.every((c) => COMPONENT.test(c))) {
    throw new InvalidArgumentError(field, `"${name}" is not a valid repository name`);
  }
  return { name, ...out };
}
