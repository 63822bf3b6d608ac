// API versioning as moby's middleware does it: every route answers unversioned and under /v{version}/, the version is
// checked against 1.40..1.50, and every response carries the daemon's identification headers.
//
// Routing happens in two steps. `rewriteUrl` runs before fastify's router: it strips the /v{version} prefix (keeping
// the version on the raw request) and percent-encodes an image name that contains '/', so `/images/{name}/json` and
// friends are plain one-segment routes (moby's `{name:.*}`). The onRequest hook then rejects unsupported versions.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { compareApiVersions, MAX_API_VERSION, MIN_API_VERSION } from '../../api-spec/api-version.ts';
import { SERVER_HEADER } from './build-info.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API version the client asked for (the daemon's maximum when unversioned). */
    apiVersion: string;
  }
}

const REQUESTED_VERSION = Symbol('dockhand.requestedApiVersion');

interface VersionedMessage extends IncomingMessage {
  [REQUESTED_VERSION]?: string;
}

const VERSIONED_PATH = /^\/v(\d+(?:\.\d+)*)(\/.*)$/;

/** fastify's rewriteUrl: strips /v{version} and encodes slashed image names into one path segment. */
export function rewriteUrl(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  const m = VERSIONED_PATH.exec(path);
  if (m) {
    (req as VersionedMessage)[REQUESTED_VERSION] = m[1]!;
    path = m[2]!;
  }
  return encodeNamePath(req.method ?? 'GET', path) + (q === -1 ? '' : url.slice(q));
}

/** `/images/a/b:1/json` → `/images/a%2Fb%3A1/json` for the routes whose `{name}` may hold '/'. */
export function encodeNamePath(method: string, path: string): string {
  if (path.startsWith('/images/')) {
    const rest = path.slice('/images/'.length);
    if (method === 'DELETE') return rest === '' ? path : `/images/${encodeName(rest)}`;
    if (method === 'GET') {
      return (
        withEncodedName('/images/', rest, '/json') ??
        withEncodedName('/images/', rest, '/history') ??
        withEncodedName('/images/', rest, '/get') ??
        path
      );
    }
    if (method === 'POST') {
      return withEncodedName('/images/', rest, '/tag') ?? withEncodedName('/images/', rest, '/push') ?? path;
    }
  } else if (method === 'GET' && path.startsWith('/distribution/')) {
    return withEncodedName('/distribution/', path.slice('/distribution/'.length), '/json') ?? path;
  }
  return path;
}

function withEncodedName(prefix: string, rest: string, suffix: string): string | undefined {
  if (rest.length <= suffix.length || !rest.endsWith(suffix)) return undefined;
  return prefix + encodeName(rest.slice(0, -suffix.length)) + suffix;
}

function encodeName(name: string): string {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // Not valid percent-encoding: route the bytes as they came; the engine will reject the name.
  }
  return encodeURIComponent(decoded);
}

export function tooOldMessage(version: string): string {
  return `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`;
}

export function tooNewMessage(version: string): string {
  return `client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`;
}

/** Set on the raw response, so streamed (hijacked) replies and fastify's own early errors carry them too. */
export function setIdentificationHeaders(raw: ServerResponse): void {
  raw.setHeader('Api-Version', MAX_API_VERSION);
  raw.setHeader('Server', SERVER_HEADER);
  raw.setHeader('Ostype', 'linux');
  raw.setHeader('Docker-Experimental', 'false');
}

type VersionVerdict = 'ok' | 'too-old' | 'too-new';

// Clients use a handful of versions, so verdicts are memoised (bounded: the path is client input).
const verdicts = new Map<string, VersionVerdict>();

function verdictOf(version: string): VersionVerdict {
  let verdict = verdicts.get(version);
  if (verdict === undefined) {
    verdict =
      compareApiVersions(version, MIN_API_VERSION) < 0
        ? 'too-old'
        : compareApiVersions(version, MAX_API_VERSION) > 0
          ? 'too-new'
          : 'ok';
    if (verdicts.size < 256) verdicts.set(version, verdict);
  }
  return verdict;
}

/** Whether the request's API version is older than `version` (for moby's compat back-fills). */
export function isApiBefore(request: FastifyRequest, version: string): boolean {
  return compareApiVersions(request.apiVersion, version) < 0;
}

/** Adds the identification headers to every response and refuses versions outside MIN..MAX with moby's 400s. */
export function installVersioning(app: FastifyInstance): void {
  app.decorateRequest('apiVersion', '');
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    setIdentificationHeaders(reply.raw);
    const requested = (request.raw as VersionedMessage)[REQUESTED_VERSION];
    request.apiVersion = requested ?? MAX_API_VERSION;
    const verdict = requested === undefined ? 'ok' : verdictOf(requested);
    if (verdict === 'too-old') {
      reply.code(400).send({ message: tooOldMessage(request.apiVersion) });
      return;
    }
    if (verdict === 'too-new') {
      reply.code(400).send({ message: tooNewMessage(request.apiVersion) });
      return;
    }
    done();
  });
}
