// The distribution API for one repository: manifests, blobs, uploads. Reads try the configured mirrors first and
// fall back to the origin when a mirror fails; writes go to the origin only.

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  describeRegistryErrors,
  findLink,
  MANIFEST_ACCEPT_HEADER,
  MAX_MANIFEST_BYTES,
  parseLinkHeader,
  readLimited,
  refuseAnnouncedSize,
  repositoryScope,
  type Scope,
} from '../../protocol/index.ts';
import type { RangeBody } from '../store/index.ts';
import type { Authorizer } from './auth/authorizer.ts';
import type { Endpoint } from './endpoint.ts';
import { ForwardedChallengeError, type RegistryResource, RegistryResponseError } from './errors.ts';
import { RegistryWarnings } from './registry-warnings.ts';
import { readCapped } from './transport/read-body.ts';
import type { RetryNotice } from './transport/retry.ts';
import type { Secrets } from './transport/sanitize.ts';
import type { Method, RegistryRequest, RegistryResponse, RegistryTransport } from './transport/transport.ts';

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

export interface FetchedManifest extends ManifestHead {
  bytes: Buffer;
}

export interface BlobStream {
  body: AsyncIterable<Uint8Array>;
  /** Where the body starts: the requested offset when the registry honoured Range, else 0. */
  start: number;
}

export interface RepositoryClientOptions {
  transport: RegistryTransport;
  authorizer: Authorizer;
  /** Mirrors to try first, then the origin (last). */
  endpoints: Endpoint[];
  repository: string;
  signal?: AbortSignal;
  onRetry?: (notice: RetryNotice) => void;
}

export class RepositoryClient {
  readonly #o: RepositoryClientOptions;
  /** Mirrors that failed during this operation: the rest of it goes straight to the next endpoint. */
  readonly #downMirrors = new Set<Endpoint>();
  /** The registries' Warning headers during this operation, each once. */
  readonly warnings = new RegistryWarnings();

  constructor(options: RepositoryClientOptions) {
    this.#o = options;
  }

  get origin(): Endpoint {
    return this.#o.endpoints[this.#o.endpoints.length - 1] as Endpoint;
  }

  get repository(): string {
    return this.#o.repository;
  }

  /** HEAD of a manifest by tag or digest: the digest without the body (an up-to-date image costs one request). */
  async headManifest(reference: string): Promise<ManifestHead | undefined> {
    const response = await this.#read('HEAD', 'manifest', `manifests/${reference}`, {
      accept: MANIFEST_ACCEPT_HEADER,
    });
    await response.body.dump();
    const digest = header(response, 'docker-content-digest');
    const mediaType = header(response, 'content-type');
    if (!digest || !mediaType) return undefined;
    return {
      digest,
      mediaType: mediaType.split(';')[0]?.trim() ?? mediaType,
      size: Number(header(response, 'content-length') ?? 0),
    };
  }

  async getManifest(reference: string): Promise<FetchedManifest> {
    const response = await this.#read('GET', 'manifest', `manifests/${reference}`, {
      accept: MANIFEST_ACCEPT_HEADER,
    });
    try {
      refuseAnnouncedSize(
        `manifest ${reference}`,
        Number(header(response, 'content-length') ?? 0),
        MAX_MANIFEST_BYTES,
      );
    } catch (error) {
      response.body.destroy();
      throw error;
    }
    const bytes = await readLimited(response.body, MAX_MANIFEST_BYTES, `manifest ${reference}`);
    const algorithm = reference.startsWith('sha512:') ? 'sha512' : 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
    if (reference.includes(':') && reference !== digest) {
      throw new Error(`manifest verification failed for digest ${reference}: got ${digest}`);
    }
    const mediaType = header(response, 'content-type')?.split(';')[0]?.trim() ?? '';
    return { digest, mediaType: mediaType || mediaTypeOf(bytes), size: bytes.length, bytes };
  }

  /**
   * Every tag of the repository: `tags/list?n=<pageSize>`, then each page the registry's `Link: <…>; rel="next"`
   * (RFC 8288) names, as distribution, Harbor and Docker Hub page them. A next link must stay on this tags/list.
   */
  async listTags(pageSize: number): Promise<string[]> {
    const tags: string[] = [];
    const asked = new Set<string>();
    for (let query: string | undefined = `n=${pageSize}`; query !== undefined; ) {
      if (asked.has(query) || asked.size >= MAX_TAG_PAGES) {
        throw new Error(`the tag pages of ${this.repository} do not end (page ${asked.size + 1}: ?${query})`);
      }
      asked.add(query);
      const response = await this.#read('GET', 'tags', `tags/list?${query}`, { accept: 'application/json' });
      const body = await readLimited(response.body, MAX_TAG_PAGE_BYTES, `tags of ${this.repository}`);
      tags.push(...tagsOf(body, this.repository));
      query = nextPageQuery(response, this.#path('tags/list'));
    }
    return tags;
  }

  /**
   * Opens a blob body from `offset` (a Range request), for resuming a partial download. Given the blob's `size`, a
   * large rest goes over the blob thread (a bulk request, http1-wire.ts).
   */
  async openBlob(digest: string, offset: number, signal?: AbortSignal, size?: number): Promise<BlobStream> {
    const { response, body } = await this.#openBlobBody(
      digest,
      offset > 0 ? `bytes=${offset}-` : undefined,
      signal,
      size !== undefined && size - offset >= BULK_MIN_BYTES,
    );
    return { body, start: response.statusCode === 206 ? offset : 0 };
  }

  /**
   * Opens bytes [start, end) of a blob. `start` says where the body really begins: the asked start when the registry
   * answered 206 for it, 0 when it sent the whole blob, -1 when it sent another range.
   */
  async openBlobRange(digest: string, start: number, end: number, signal?: AbortSignal): Promise<RangeBody> {
    const { response, body } = await this.#openBlobBody(
      digest,
      `bytes=${start}-${end - 1}`,
      signal,
      end - start >= BULK_MIN_BYTES,
    );
    if (response.statusCode !== 206) return { body, start: 0, rangeable: false, whole: true };
    const sent = contentRangeStart(header(response, 'content-range'));
    const rangeable = /\bbytes\b/i.test(header(response, 'accept-ranges') ?? '');
    return { body, start: sent === start ? start : -1, rangeable, whole: false };
  }

  /**
   * A blob GET, whole or a range. Not retried here: the blob fetch retries, resuming from what it has (one retry
   * layer per request). The body is cut when it stays below the minimum transfer rate.
   */
  async #openBlobBody(
    digest: string,
    range: string | undefined,
    signal: AbortSignal | undefined,
    bulk: boolean,
  ) {
    const headers: Record<string, string> = range === undefined ? {} : { range };
    const response = await this.#read('GET', 'blob', `blobs/${digest}`, headers, signal, { bulk });
    return { response, body: this.#o.transport.watchBody(response.body) };
  }

  async blobExists(digest: string): Promise<boolean> {
    const response = await this.#send(this.origin, {
      method: 'HEAD',
      path: this.#path(`blobs/${digest}`),
      scopes: this.#scopes('pull', 'push'),
    });
    await response.body.dump();
    if (response.statusCode === 404) return false;
    if (response.statusCode >= 200 && response.statusCode < 300) return true;
    throw await this.#refusal(response, `HEAD blob ${digest}`, 'HEAD', 'blob');
  }

  /** Cross-repository mount. Resolves true when mounted; false when the registry opened an upload instead. */
  async mountBlob(digest: string, from: string): Promise<boolean> {
    const path = `${this.#path('blobs/uploads/')}?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const response = await this.#send(this.origin, {
      method: 'POST',
      path,
      scopes: [...this.#scopes('pull', 'push'), repositoryScope(from, ['pull'])],
      headers: { 'content-length': '0' },
      replayable: true,
    });
    await response.body.dump();
    if (response.statusCode === 201) return true;
    // A 202 opened an upload session instead; it is left to expire, since cancelling needs the delete scope.
    if (response.statusCode === 202) return false;
    throw await this.#refusal(response, `mount ${digest} from ${from}`, 'POST', 'upload');
  }

  /** Monolithic upload: POST for a session, then PUT the whole blob with its digest. */
  async uploadBlob(digest: string, size: number, body: () => AsyncIterable<Uint8Array>): Promise<void> {
    const location = await this.#startUpload(digest);
    const put = await this.#send(this.origin, {
      method: 'PUT',
      path: location,
      scopes: this.#scopes('pull', 'push'),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: () => Readable.from(body()),
      replayable: false,
    });
    if (put.statusCode !== 201) throw await this.#refusal(put, `upload ${digest}`, 'PUT', 'upload');
    await put.body.dump();
  }

  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string | undefined> {
    const response = await this.#send(this.origin, {
      method: 'PUT',
      path: this.#path(`manifests/${reference}`),
      scopes: this.#scopes('pull', 'push'),
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: () => bytes,
      replayable: true,
    });
    if (response.statusCode !== 201)
      throw await this.#refusal(response, `put manifest ${reference}`, 'PUT', 'manifest');
    await response.body.dump();
    return header(response, 'docker-content-digest');
  }

  /**
   * Opens an upload session so the push scope is challenged now, before a stream has started. The session is left
   * to expire: cancelling it would need the delete scope.
   */
  async probeUpload(): Promise<void> {
    await this.#startUpload('');
  }

  /** POST uploads/: the session's PUT URL, carrying `digest` when one is given. */
  async #startUpload(digest: string): Promise<string> {
    const start = await this.#send(this.origin, {
      method: 'POST',
      path: this.#path('blobs/uploads/'),
      scopes: this.#scopes('pull', 'push'),
      headers: { 'content-length': '0' },
      replayable: true,
    });
    if (start.statusCode !== 202)
      throw await this.#refusal(start, `start upload ${digest}`.trim(), 'POST', 'upload');
    await start.body.dump();
    return uploadUrl(start, digest);
  }

  /** GET /v2/ for login: the one place a ping is the request itself. */
  async checkLogin(): Promise<void> {
    const response = await this.#send(this.origin, { method: 'GET', path: '/v2/', scopes: [] });
    if (response.statusCode !== 200) throw await this.#refusal(response, 'GET /v2/', 'GET', 'ping');
    await response.body.dump();
  }

  #path(suffix: string): string {
    return `/v2/${this.#o.repository}/${suffix}`;
  }

  #scopes(...actions: string[]): Scope[] {
    return [repositoryScope(this.#o.repository, actions)];
  }

  async #send(endpoint: Endpoint, request: Omit<RegistryRequest, 'repository'>): Promise<RegistryResponse> {
    const response = await this.#o.transport.send(endpoint, this.#o.authorizer, {
      ...request,
      repository: this.#o.repository,
      ...(this.#o.signal && !request.signal ? { signal: this.#o.signal } : {}),
      ...(this.#o.onRetry ? { onRetry: this.#o.onRetry } : {}),
    });
    this.warnings.record(response.url.host, response.headers['warning']);
    return response;
  }

  /** A pull-side read: mirrors first; a failing mirror falls back to the next, the origin's answer is final. */
  /** The registry's refusal as a typed error, its text masked for every credential this client holds. */
  #refusal(
    response: RegistryResponse,
    what: string,
    method: Method,
    resource: RegistryResource,
    host: string = this.origin.host,
  ): Promise<RegistryResponseError> {
    return responseError(this.#o.authorizer.secrets(), host, response, what, method, resource);
  }

  async #read(
    method: Method,
    resource: RegistryResource,
    suffix: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
    blobBody?: { bulk: boolean },
  ) {
    const endpoints = this.#o.endpoints.filter((e) => !this.#downMirrors.has(e));
    for (let i = 0; ; i++) {
      const endpoint = endpoints[i] as Endpoint;
      const last = i === endpoints.length - 1;
      try {
        const response = await this.#send(endpoint, {
          method,
          path: this.#path(suffix),
          scopes: this.#scopes('pull'),
          headers,
          ...(signal ? { signal } : {}),
          // A mirror is not retried: the origin behind it is the better second try. Nor is a blob body: the blob
          // fetch retries it from the bytes it has.
          ...(last && !blobBody ? {} : { replayable: false }),
          ...(blobBody?.bulk ? { bulk: true } : {}),
        });
        if (response.statusCode >= 200 && response.statusCode < 300) return response;
        if (last) throw await this.#refusal(response, `${method} ${suffix}`, method, resource, endpoint.host);
        if (response.statusCode >= 500) this.#downMirrors.add(endpoint);
        await response.body.dump();
      } catch (err) {
        // A mirror's challenge is forwarded in clientAuth mode: the client can answer for the mirror host.
        if (last || err instanceof ForwardedChallengeError || signal?.aborted || this.#o.signal?.aborted)
          throw err;
        this.#downMirrors.add(endpoint);
      }
    }
  }
}

/** Blob bodies from this size on are bulk requests, on a connection of their own: it costs a handshake, which a
 * megabyte outweighs. */
const BULK_MIN_BYTES = 1024 * 1024;

/** A page holds names only; a registry that ignores `n` still cannot make the daemon hold more than this. */
const MAX_TAG_PAGE_BYTES = 4 * 1024 * 1024;
const MAX_TAG_PAGES = 10_000;

function tagsOf(body: Buffer, repository: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error(`the tags page of ${repository} is not JSON`);
  }
  const tags = (json as { tags?: unknown } | null)?.tags;
  // distribution answers `"tags": null` for a repository whose tags were all deleted.
  if (tags === null || tags === undefined) return [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw new Error(`the tags page of ${repository} has no list of tags`);
  }
  return tags;
}

/** The query of the page the Link header names next, resolved against the page that named it. */
function nextPageQuery(response: RegistryResponse, path: string): string | undefined {
  const target = findLink(parseLinkHeader(response.headers['link']), 'next');
  if (target === undefined) return undefined;
  const base = new URL(response.url);
  const next = new URL(target, base);
  if (next.origin !== base.origin || next.pathname !== path) {
    throw new Error(`the registry's next tags page ${target} is not ${path} on ${base.origin}`);
  }
  return next.search.slice(1);
}

function header(response: RegistryResponse, name: string): string | undefined {
  const v = response.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The first byte of a `Content-Range: bytes <first>-<last>/<size>` header, undefined when it is not one. */
function contentRangeStart(value: string | undefined): number | undefined {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(value?.trim() ?? '');
  return match ? Number(match[1]) : undefined;
}

function uploadUrl(response: RegistryResponse, digest: string): string {
  const location = header(response, 'location');
  if (!location) throw new Error('registry opened an upload without a Location');
  const url = new URL(location, response.url);
  if (digest) url.searchParams.set('digest', digest);
  return url.toString();
}

async function responseError(
  secrets: Secrets,
  host: string,
  response: RegistryResponse,
  what: string,
  method: Method,
  resource: RegistryResource,
): Promise<RegistryResponseError> {
  const body = await readCapped(response.body, 16 * 1024);
  const { code, text } = describeRegistryErrors(body);
  // The registry's text may repeat what it was sent (a token, a password): masked before anyone logs or shows it.
  return new RegistryResponseError(
    host,
    response.statusCode,
    code,
    secrets.mask(text ?? `${what}: HTTP ${response.statusCode}`),
    method,
    resource,
    header(response, 'retry-after'),
  );
}

/** Some registries omit Content-Type; the manifest's own mediaType field then says what it is. */
function mediaTypeOf(bytes: Buffer): string {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown };
    return typeof parsed.mediaType === 'string' ? parsed.mediaType : '';
  } catch {
    return '';
  }
}
