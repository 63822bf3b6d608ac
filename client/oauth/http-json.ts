// One JSON request to an authorization server (metadata, device authorization): no redirects, a bounded body and
// a time limit, so an untrusted server can neither move the request elsewhere nor make it grow without end.

import { type Dispatcher, request } from 'undici';
import {
  AddressRefusedError,
  dispatcherOf,
  readLimited,
  realmRefused,
  TokenRequestError,
} from '../../protocol/index.ts';

const BODY_LIMIT = 64 * 1024;
const TIMEOUT_MS = 15_000;

export interface JsonRequestOptions {
  /** A form body makes it a POST. */
  form?: Record<string, string>;
  dispatcher?: Dispatcher;
  /** The registry that named this server: without a dispatcher, its guarded pool holds the server's address. */
  registryHost?: string;
  signal?: AbortSignal;
}

export interface JsonAnswer {
  status: number;
  /** The parsed body, or undefined when it is not JSON. */
  body: unknown;
}

export async function requestJson(url: URL, options: JsonRequestOptions = {}): Promise<JsonAnswer> {
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Dispatcher.ResponseData;
  try {
    const dispatcher = await dispatcherOf(options);
    response = await request(url, {
      method: options.form ? 'POST' : 'GET',
      headers: {
        accept: 'application/json',
        ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: options.form ? new URLSearchParams(options.form).toString() : null,
      signal,
      ...(dispatcher ? { dispatcher } : {}),
    });
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (err instanceof AddressRefusedError) throw realmRefused(url, err.reason, err.message);
    const code = (err as { code?: unknown }).code;
    throw new TokenRequestError(
      undefined,
      'network',
      `request to ${url.origin} failed: ${String(code ?? err)}`,
      {
        cause: err,
      },
    );
  }
  const text = (await readLimited(response.body, BODY_LIMIT, `the answer of ${url.origin}`)).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.statusCode, body };
}
