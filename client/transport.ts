// The daemon's routes over its connection, every one prefixed by the API version negotiated once from /_ping
// (or pinned by the caller).

import { isValidApiVersion } from '../api-spec/api-version.ts';
import { type DaemonAddress, type DaemonAddressOptions, resolveDaemonAddress } from './daemon-address.ts';
import { DaemonConnection, type DaemonResponse } from './daemon-connection.ts';
import { ApiVersionError } from './errors.ts';
import { chooseApiVersion, type PingInfo, ping } from './ping.ts';

export interface TransportOptions extends DaemonAddressOptions {
  /** Pin the API version (e.g. "1.48") instead of negotiating it. */
  version?: string;
  /** Concurrent connections to the daemon (a pull holds one for its whole stream). */
  connections?: number;
}

export interface TransportRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  /** The route without version, e.g. `/images/create`. */
  path: string;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export class Transport {
  readonly address: DaemonAddress;
  readonly #connection: DaemonConnection;
  #version: Promise<string> | undefined;

  constructor(options: TransportOptions = {}) {
    this.address = resolveDaemonAddress(options);
    if (options.version !== undefined) {
      const pinned = options.version.replace(/^v/, '');
      if (!isValidApiVersion(pinned)) throw new ApiVersionError(`invalid API version "${options.version}"`);
      this.#version = Promise.resolve(pinned);
    }
    // Progress and event streams may stay quiet for minutes: no timeout; callers cancel with a signal.
    this.#connection = new DaemonConnection(this.address, options.connections ?? 8);
  }

  ping(signal?: AbortSignal): Promise<PingInfo> {
    return ping(this.#connection, signal);
  }

  /** The negotiated version; a failed negotiation is retried on the next call rather than remembered. */
  apiVersion(signal?: AbortSignal): Promise<string> {
    if (this.#version === undefined) {
      const negotiated = this.ping(signal).then((info) => chooseApiVersion(info.apiVersion));
      this.#version = negotiated;
      negotiated.catch(() => {
        if (this.#version === negotiated) this.#version = undefined;
      });
    }
    return this.#version;
  }

  async request(request: TransportRequest): Promise<DaemonResponse> {
    const version = await this.apiVersion(request.signal);
    return this.#connection.send({
      method: request.method,
      path: `/v${version}${request.path}${formatQuery(request.query)}`,
      headers:
        request.body === undefined
          ? request.headers
          : { 'content-type': 'application/json', ...request.headers },
      body: request.body,
      signal: request.signal,
    });
  }

  close(): Promise<void> {
    return this.#connection.close();
  }
}

function formatQuery(query: Record<string, string | undefined> | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.append(key, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** `/images/<name>/…`: the name's slashes, colons and `@` kept (moby routes on `{name:.*}`), anything else escaped. */
export function namePath(name: string): string {
  return name.replace(/[^A-Za-z0-9._~:@/-]/g, (c) => encodeURIComponent(c));
}
