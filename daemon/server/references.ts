// The reference arithmetic of the image routes, done on strings as moby's router does before parsing them.
import { InvalidParameterError } from '../errors.ts';

const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/**
 * What POST /images/create pulls: one trailing ':' is stripped (`pull -a`); a digest in fromImage wins; otherwise
 * `tag` (a tag or a digest) replaces fromImage's tag; no tag at all means every tag.
 */
export function pullReference(fromImage: string, tag: string | undefined): string {
  const image = fromImage.endsWith(':') ? fromImage.slice(0, -1) : fromImage;
  if (image === '') throw new InvalidParameterError('invalid fromImage: must not be empty');
  if (image.includes('@') || tag === undefined || tag === '') return image;
  const { repository } = splitTag(image);
  if (DIGEST.test(tag)) return `${repository}@${tag}`;
  if (TAG.test(tag)) return `${repository}:${tag}`;
  throw new InvalidParameterError(`invalid tag "${tag}": must be a tag or a digest`);
}

/** Splits `host:port/path:tag` at the tag's ':' (one after the last '/'); a digest reference is left whole. */
export function splitTag(name: string): { repository: string; tag?: string } {
  if (name.includes('@')) return { repository: name };
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return { repository: name.slice(0, colon), tag: name.slice(colon + 1) };
  return { repository: name };
}

/** Validates the `tag` of POST /images/{name}/tag and /push. */
export function checkTag(tag: string, field: string): string {
  if (!TAG.test(tag))
    throw new InvalidParameterError(`invalid ${field} "${tag}": must match [\\w][\\w.-]{0,127}`);
  return tag;
}
