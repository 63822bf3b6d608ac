// Every request the daemon sends to a registry, a mirror or a token server leaves through here. A registry request
// passes these parts, outermost first, each in its own file:
//  1. deadline.ts   one overall deadline for the request, retries included, until its answer's headers arrive.
//  2. retry.ts      the one retry layer: 408/429/5xx and connection errors, backoff, Retry-After.
//  3. challenge.ts  a 401 goes to the authorizer (classic: fetch a token; clientAuth: forward the challenge), then
//                   the request is sent once more; a second 401 fails.
//  4. redirect.ts   redirects followed by hand: every target checked against the address policy, no https → http
//                   after a credential, each hop authorized anew.
//  5. authorize.ts  the Authorization the authorizer gives for this hop's origin (scheme, host, port), if any.
//  6. network.ts    User-Agent, pools per trust setting (system CAs + certs.d), idle timeouts; a request a registry
//                   sent to another origin connects only to addresses the address policy allows, resolved once
//                   (protocol/address-guard.ts); transfer-rate.ts watches blob bodies. A token request
//                   (token-leg.ts) takes 1, 2 and 6, always through the guarded pool.

import type { Readable } from 'node:stream';
import { type Resolver, systemResolver } from '../../../protocol/index.ts';
import { isRemoteBody } from '../../blob-thread/remote-exchange.ts';
import type { Authorizer } from '../auth/authorizer.ts';
import type { Endpoint } from '../endpoint.ts';
import { authorize } from './authorize.ts';
import { challenge } from './challenge.ts';
import { deadline } from './deadline.ts';
import { Network } from './network.ts';
import { redirect } from './redirect.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, retry } from './retry.ts';
import type { Part, RegistryRequest, RegistryResponse, RoundTrip } from './round-trip.ts';
import { TokenLeg } from './token-leg.ts';
import { type TransferRate, watchTransferRate } from './transfer-rate.ts';

export type { Method, RegistryRequest, RegistryResponse } from './round-trip.ts';

/** The limits of registry access, each a daemon setting (README, "Registry limits"). */
export interface TransportLimits {
  retry: RetryPolicy;
  /** Overall deadline of one request until its headers arrive, retries included. */
  requestTimeoutMs: number;
  /** Longest wait for a connection, for headers, and between two body chunks. */
  idleTimeoutMs: number;
  /** A blob body slower than this over a whole window is cut (and resumed by the retry). */
  transferRate: TransferRate;
}

export const DEFAULT_LIMITS: TransportLimits = {
  retry: DEFAULT_RETRY_POLICY,
  requestTimeoutMs: 120_000,
  idleTimeoutMs: 30_000,
  transferRate: { minBytesPerSecond: 1024, windowMs: 30_000 },
};

export interface TransportOptions {
  limits?: Partial<TransportLimits>;
  userAgent?: string;
  /** Docker's certs.d layout, for the CAs of token servers (registries carry theirs on their Endpoint). */
  certsDir?: string;
  /** Replaces the wire under the registry parts (tests: a fake network that never connects). */
  network?: RoundTrip;
  /** How names become addresses, for the redirect check and every connection (tests: a resolver of their own). */
  resolve?: Resolver;
}

export class RegistryTransport {
  readonly limits: TransportLimits;
  readonly tokens: TokenLeg;
  readonly #network: Network;
  readonly #send: RoundTrip;

  constructor(options: TransportOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#network = new Network({
      userAgent: options.userAgent ?? 'dockhand',
      idleTimeoutMs: this.limits.idleTimeoutMs,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    });
    const parts: Part[] = [
      deadline(this.limits.requestTimeoutMs),
      retry(this.limits.retry),
      challenge,
      redirect(options.resolve ?? systemResolver),
      authorize,
    ];
    this.#send = parts.reduceRight<RoundTrip>(
      (next, part) => part(next),
      options.network ?? this.#network.roundTrip,
    );
    this.tokens = new TokenLeg(this.#network, this.limits, options.certsDir);
  }

  /** Sends the request through every part. The caller consumes or dumps the body. */
  send(endpoint: Endpoint, authorizer: Authorizer, request: RegistryRequest): Promise<RegistryResponse> {
    return this.#send({
      endpoint,
      authorizer,
      request,
      method: request.method,
      url: new URL(request.path, endpoint.origin),
      headers: { ...request.headers },
      body: undefined,
      signal: request.signal,
    });
  }

  /** A blob body, cut when it stays below the minimum transfer rate for a whole window. */
  watchBody(body: AsyncIterable<Uint8Array>): Readable {
    if (isRemoteBody(body)) return body.watchRate(this.limits.transferRate);
    return watchTransferRate(body, this.limits.transferRate);
  }

  async close(): Promise<void> {
    await this.#network.close();
  }
}
