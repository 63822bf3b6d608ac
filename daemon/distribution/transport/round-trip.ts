// The shape every transport part shares: a part takes the next round trip and returns one that adds its concern
// (go-containerregistry's RoundTripper wrappers, undici's interceptors), so adding a concern adds one part.

import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Scope } from '../../../protocol/index.ts';
import type { Authorizer } from '../auth/authorizer.ts';
import type { Endpoint } from '../endpoint.ts';
import type { RetryNotice } from './retry.ts';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One logical request as the repository client asks for it. */
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
  /** Whether a failure may be retried here (GET, HEAD, and bodies the factory can replay). */
  replayable?: boolean;
  onRetry?: (notice: RetryNotice) => void;
  /** A large blob body: sent by the blob thread, on a connection that reads into reused buffers (http1-wire.ts). */
  bulk?: boolean;
}

/** A request on its way through the parts: where it goes now, and for whom. */
export interface Exchange {
  /** The registry or mirror the request is for: whose credentials and trust apply. */
  endpoint: Endpoint;
  authorizer: Authorizer;
  request: RegistryRequest;
  method: Method;
  url: URL;
  headers: Record<string, string | string[]>;
  body: Dispatcher.DispatchOptions['body'];
  signal: AbortSignal | undefined;
}

/** A response body as the parts use it: a stream, and `dump` to discard it (undici's bodies and the wire's). */
export interface ResponseBody extends Readable {
  dump(): Promise<void>;
}

export interface RegistryResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: ResponseBody;
  /** The URL that answered (after redirects). */
  url: URL;
  /**
   * The Authorization the request that got this answer carried, if any: the credential a 401 refused, so an answer
   * that came meanwhile is not asked for again.
   */
  authorization: string | undefined;
}

export type RoundTrip = (exchange: Exchange) => Promise<RegistryResponse>;

export type Part = (next: RoundTrip) => RoundTrip;
