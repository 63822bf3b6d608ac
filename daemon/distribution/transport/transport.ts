// How one registry request travels, in order:
//  1. The authorizer says what to send to this host for these scopes (nothing, Basic, or a Bearer token).
//  2. No /v2/ ping first: every 401 from any endpoint is a challenge (registries challenge per repository even when
//     /v2/ answers 200, skopeo issue 192).
//  3. On 401 the authorizer answers the challenge (classic: fetch a token; clientAuth: throw it to the API client),
//     and the request is sent once more. A second 401 fails: never loop.
//  4. Redirects are followed by hand; Authorization is dropped when scheme, host or port change (blob CDNs).
//  5. 408/429/5xx and connection errors are retried with backoff when the request can be replayed.

import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { describeRegistryErrors, type Scope } from '../../../protocol/index.ts';
import type { Authorizer, AuthRequest } from '../auth/authorizer.ts';
import type { Endpoint } from '../endpoint.ts';
import { RegistryConnectionError, RegistryUnauthorizedError } from '../errors.ts';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableError,
  isRetryableStatus,
  type RetryNotice,
  type RetryPolicy,
  retryDelay,
  sleep,
} from './retry.ts';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RegistryRequest {
  method: Method;
  /** A path under the endpoint's origin (/v2/...) or an absolute URL (an upload Location). */
  path: string;
  scopes: Scope[];
  repository: string;
  headers?: Record<string, string | string[]>;
  /** A factory, so a retried or re-authorized request can send its body again. */
  body?: () => Dispatcher.DispatchOptions['body'];
  signal?: AbortSignal;
  /** Whether a failure may be retried (GET, HEAD, and bodies the factory can replay). */
  replayable?: boolean;
  onRetry?: (notice: RetryNotice) => void;
}

export type RegistryResponse = Dispatcher.ResponseData & { url: URL };

const MAX_REDIRECTS = 5;

export interface TransportOptions {
  retry?: RetryPolicy;
  userAgent?: string;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
}

/** Keep-alive connection pools per origin (undici's Agent keeps one Pool per origin), one Agent per trust setting. */
export class RegistryTransport {
  readonly #agents = new Map<string, Agent>();
  readonly #options: TransportOptions;

  constructor(options: TransportOptions = {}) {
    this.#options = options;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((a) => a.close()));
    this.#agents.clear();
  }

  #dispatcher(endpoint: Endpoint): Agent {
    const key = endpoint.ca ? endpoint.host : '';
    let agent = this.#agents.get(key);
    if (!agent) {
      agent = new Agent({
        connections: 16,
        keepAliveTimeout: 30_000,
        connectTimeout: this.#options.connectTimeoutMs ?? 15_000,
        headersTimeout: this.#options.headersTimeoutMs ?? 60_000,
        bodyTimeout: this.#options.bodyTimeoutMs ?? 60_000,
        // A `ca` option replaces Node's trust store; certs.d adds to it, as in dockerd.
        ...(endpoint.ca ? { connect: { ca: [...rootCertificates, ...endpoint.ca] } } : {}),
      });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  /** Sends the request with authorization, redirects and retries. The caller consumes or dumps the body. */
  async send(
    endpoint: Endpoint,
    authorizer: Authorizer,
    request: RegistryRequest,
  ): Promise<RegistryResponse> {
    const policy = this.#options.retry ?? DEFAULT_RETRY_POLICY;
    const replayable = request.replayable ?? (request.method === 'GET' || request.method === 'HEAD');
    for (let attempt = 1; ; attempt++) {
      let retryAfter: string | string[] | undefined;
      let reason: string;
      try {
        const response = await this.#authorized(endpoint, authorizer, request);
        if (!replayable || !isRetryableStatus(response.statusCode) || attempt > policy.maxRetries)
          return response;
        retryAfter = response.headers['retry-after'];
        reason = `HTTP ${response.statusCode}`;
        await response.body.dump();
      } catch (err) {
        if (!replayable || !isRetryableError(err) || attempt > policy.maxRetries || request.signal?.aborted)
          throw err;
        reason = (err as Error).message;
      }
      const delayMs = retryDelay(policy, attempt, retryAfter);
      request.onRetry?.({ attempt, delayMs, reason });
      await sleep(delayMs, request.signal);
    }
  }

  async #authorized(
    endpoint: Endpoint,
    authorizer: Authorizer,
    request: RegistryRequest,
  ): Promise<RegistryResponse> {
    const auth: AuthRequest = { endpoint, scopes: request.scopes, repository: request.repository };
    if (request.signal) auth.signal = request.signal;
    const first = await this.#redirected(endpoint, authorizer, auth, request);
    if (first.statusCode !== 401) return first;
    await first.body.dump();
    const challenger = endpointOf(endpoint, first.url);
    await authorizer
      .challenged({ ...auth, endpoint: challenger }, challengeLines(first.headers['www-authenticate']))
      .catch((error: unknown) => {
        // Go's client fails inside the round trip, so dockerd names the request: `Head "url": no basic auth …`.
        throw error instanceof RegistryUnauthorizedError ? error.at(request.method, first.url) : error;
      });
    const second = await this.#redirected(endpoint, authorizer, auth, request);
    if (second.statusCode !== 401) return second;
    const body = await readCapped(second.body, 16 * 1024);
    const again = challengeLines(second.headers['www-authenticate']);
    throw new RegistryUnauthorizedError(
      challenger.host,
      request.repository,
      again,
      describeRegistryErrors(body).text ?? 'unauthorized: authentication required',
      /error="([^"]*)"/.exec(again.join(' '))?.[1],
    );
  }

  /** Follows redirects; each hop gets only the authorization its own host may see. */
  async #redirected(
    endpoint: Endpoint,
    authorizer: Authorizer,
    auth: AuthRequest,
    request: RegistryRequest,
  ): Promise<RegistryResponse> {
    let url = new URL(request.path, endpoint.origin);
    let method = request.method;
    let body = request.body?.();
    for (let hop = 0; ; hop++) {
      const hopEndpoint = endpointOf(endpoint, url);
      const authorization = await authorizer.authorization({ ...auth, endpoint: hopEndpoint });
      const headers: Record<string, string | string[]> = {
        'user-agent': this.#options.userAgent ?? 'dockhand',
        ...request.headers,
        ...(authorization ? { authorization } : {}),
      };
      const response = await this.#dispatcher(endpoint)
        .request({
          origin: url.origin,
          path: url.pathname + url.search,
          method,
          headers,
          body,
          signal: request.signal,
        })
        .catch((error: unknown) => {
          throw request.signal?.aborted ? error : new RegistryConnectionError(method, url, error);
        });
      const location = response.headers.location;
      if (response.statusCode < 300 || response.statusCode >= 400 || typeof location !== 'string') {
        return Object.assign(response, { url });
      }
      await response.body.dump();
      if (hop >= MAX_REDIRECTS) throw new Error(`too many redirects from ${endpoint.host}${request.path}`);
      url = new URL(location, url);
      if (response.statusCode === 303) {
        method = 'GET';
        body = undefined;
      }
    }
  }
}

function challengeLines(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [header];
}

/** A 401 from a redirect target is that host's challenge, not the registry's. */
function endpointOf(endpoint: Endpoint, url: URL): Endpoint {
  if (url.origin === endpoint.origin) return endpoint;
  return { host: url.host, origin: url.origin, secure: url.protocol === 'https:' };
}

/** Reads at most `limit` bytes of a body as text, discarding the rest. */
export async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}
