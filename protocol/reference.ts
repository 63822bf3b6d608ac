// Image references with Docker's normalization, as github.com/distribution/reference ParseNormalizedNamed
// does it: the grammar, the Docker Hub defaults, the error texts. `canonical` additionally applies the
// `latest` default tag the daemon and CLI add when neither tag nor digest is given.
import { parseDigest } from './digest.ts';
import { InvalidDigestError, InvalidReferenceError } from './errors.ts';

export interface Reference {
  /** Registry domain as written (`docker.io` for Docker Hub), with `:port` when given. */
  domain: string;
  /** Repository path on that registry (`library/alpine`). */
  path: string;
  /** Tag as written; undefined when the reference has none (the default `latest` is only in `canonical`). */
  tag?: string;
  /** `algorithm:hex` as written. */
  digest?: string;
  /** `domain/path`. */
  name: string;
  /** Docker's FamiliarString: the shortest form the CLI prints (`alpine`, `alpine:3.20`, `ghcr.io/o/r:1`). */
  familiar: string;
  /** Fully qualified, with `:latest` when neither tag nor digest was given (`docker.io/library/alpine:latest`). */
  canonical: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
/** The network host that serves the `docker.io` domain. */
export const DOCKER_HUB_REGISTRY_HOST = 'registry-1.docker.io';
export const NAME_TOTAL_LENGTH_MAX = 255;

const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const LOCALHOST = 'localhost';

// The grammar of distribution/reference regexp.go, piece by piece.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const ipv6Address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainAndPort = `(?:${domainName}|${ipv6Address})(?::[0-9]+)?`;
const namePattern = `(?:${domainAndPort}/)?${remoteName}`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const REFERENCE = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const ANCHORED_NAME = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const ANCHORED_IDENTIFIER = /^[a-f0-9]{64}$/;

const FORMAT_MESSAGE = 'invalid reference format';

/** Splits off the domain the way Docker does: the first component is a domain only if it looks like one. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  if (slash === -1) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + name };
  const maybeDomain = name.slice(0, slash);
  const maybeRemainder = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (maybeDomain === LOCALHOST) {
    [domain, remainder] = [maybeDomain, maybeRemainder];
  } else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
    [domain, remainder] = [DEFAULT_DOMAIN, maybeRemainder];
  } else if (/[.:]/.test(maybeDomain)) {
    [domain, remainder] = [maybeDomain, maybeRemainder];
  } else if (maybeDomain.toLowerCase() !== maybeDomain) {
    // Repository namespaces are lowercase, so an uppercase first component can only be a host name.
    [domain, remainder] = [maybeDomain, maybeRemainder];
  } else {
    [domain, remainder] = [DEFAULT_DOMAIN, name];
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

function referenceError(input: string, error: InvalidDigestError): InvalidReferenceError {
  const reason =
    error.reason === 'length'
      ? 'digest-length'
      : error.reason === 'unsupported'
        ? 'digest-unsupported'
        : 'digest-format';
  return new InvalidReferenceError(input, reason, error.message);
}

/**
 * Parses an image reference with Docker's normalization (`alpine` → `docker.io/library/alpine`).
 * Throws InvalidReferenceError, whose message is distribution/reference's, for anything Docker refuses.
 */
export function parseReference(ref: string): Reference {
  if (typeof ref !== 'string' || ref === '') {
    throw new InvalidReferenceError(String(ref), 'empty', 'repository name must have at least one component');
  }
  if (ANCHORED_IDENTIFIER.test(ref)) {
    throw new InvalidReferenceError(
      ref,
      'hex-identifier',
      `invalid repository name (${ref}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  const { domain: splitDomain, remainder } = splitDockerDomain(ref);
  const colon = remainder.indexOf(':');
  const remote = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) {
    throw new InvalidReferenceError(
      ref,
      'uppercase',
      `${FORMAT_MESSAGE}: repository name (${remote}) must be lowercase`,
    );
  }

  const full = `${splitDomain}/${remainder}`;
  const match = REFERENCE.exec(full);
  if (!match) {
    if (REFERENCE.test(full.toLowerCase())) {
      throw new InvalidReferenceError(ref, 'uppercase', 'repository name must be lowercase');
    }
    throw new InvalidReferenceError(ref, 'format', FORMAT_MESSAGE);
  }
  // The whole-reference match guarantees the name part matches the anchored name grammar.
  const nameMatch = ANCHORED_NAME.exec(match[1]!)!;
  const domain = nameMatch[1] ?? '';
  const path = nameMatch[2]!;
  if (path.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidReferenceError(
      ref,
      'name-too-long',
      `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
    );
  }
  const tag = match[2];
  const digest = match[3];
  if (digest !== undefined) {
    try {
      parseDigest(digest);
    } catch (error) {
      if (error instanceof InvalidDigestError) throw referenceError(ref, error);
      throw error;
    }
  }
  return build(domain, path, tag, digest);
}

function build(domain: string, path: string, tag: string | undefined, digest: string | undefined): Reference {
  const parts = { domain, path, tag, digest };
  const reference: Reference = {
    domain,
    path,
    name: `${domain}/${path}`,
    familiar: familiarString(parts),
    canonical: formatReference({
      domain,
      path,
      tag: tag === undefined && digest === undefined ? DEFAULT_TAG : tag,
      digest,
    }),
  };
  if (tag !== undefined) reference.tag = tag;
  if (digest !== undefined) reference.digest = digest;
  return reference;
}

export interface ReferenceParts {
  domain: string;
  path: string;
  tag?: string | undefined;
  digest?: string | undefined;
}

function suffix(parts: ReferenceParts): string {
  return (
    (parts.tag !== undefined ? `:${parts.tag}` : '') + (parts.digest !== undefined ? `@${parts.digest}` : '')
  );
}

/** The fully qualified string (Go's `String()`): `domain/path[:tag][@digest]`, no default tag added. */
export function formatReference(parts: ReferenceParts): string {
  return `${parts.domain}/${parts.path}${suffix(parts)}`;
}

/** Docker's FamiliarName: Docker Hub names lose `docker.io/`, official images also lose `library/`. */
export function familiarName(parts: Pick<ReferenceParts, 'domain' | 'path'>): string {
  if (parts.domain !== DEFAULT_DOMAIN) return `${parts.domain}/${parts.path}`;
  const rest = parts.path.slice(OFFICIAL_REPO_PREFIX.length);
  if (parts.path.startsWith(OFFICIAL_REPO_PREFIX) && !rest.includes('/')) return rest;
  return parts.path;
}

/** Docker's FamiliarString: familiar name plus tag and digest as given. */
export function familiarString(parts: ReferenceParts): string {
  return familiarName(parts) + suffix(parts);
}

/** FamiliarString of `canonical`: the default tag shown (`alpine:latest`), as docker's status lines print it. */
export function familiarCanonical(ref: ReferenceParts): string {
  return familiarString(
    ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref,
  );
}

/** The network host[:port] that serves a reference domain: `docker.io` lives on `registry-1.docker.io`. */
export function registryHostOf(domain: string): string {
  return domain === DEFAULT_DOMAIN || domain === LEGACY_DEFAULT_DOMAIN ? DOCKER_HUB_REGISTRY_HOST : domain;
}
