// GET/HEAD /_ping and the API version negotiation built on it, as moby's Go client does it:
// 1. HEAD /_ping; on any error or a status other than 200, GET /_ping.
// 2. Read Api-Version (empty: assume our maximum).
// 3. Refuse a server below our minimum; otherwise use min(our maximum, the server's).

import {
  compareApiVersions,
  isValidApiVersion,
  MAX_API_VERSION,
  MIN_API_VERSION,
} from '../api-spec/api-version.ts';
import type { DaemonConnection } from './daemon-connection.ts';
import { ApiVersionError, type ResponseHeaders } from './errors.ts';
import { discardBody, readEngineApiError } from './responses.ts';

export interface PingInfo {
  /** The daemon's maximum API version (the Api-Version header), if it sent one. */
  apiVersion: string | undefined;
  osType: string | undefined;
  experimental: boolean;
  builderVersion: string | undefined;
}

export async function ping(connection: DaemonConnection, signal?: AbortSignal): Promise<PingInfo> {
  try {
    const head = await connection.send({ method: 'HEAD', path: '/_ping', signal });
    await discardBody(head.body);
    if (head.statusCode === 200) return pingInfo(head.headers);
  } catch (err) {
    if (signal?.aborted) throw err;
    // Old daemons and some proxies do not answer HEAD: fall through to GET, as the Go client does.
  }
  const get = await connection.send({ method: 'GET', path: '/_ping', signal });
  if (get.statusCode !== 200) throw await readEngineApiError(get);
  await discardBody(get.body);
  return pingInfo(get.headers);
}

function pingInfo(headers: ResponseHeaders): PingInfo {
  return {
    apiVersion: header(headers, 'api-version'),
    osType: header(headers, 'ostype'),
    experimental: header(headers, 'docker-experimental') === 'true',
    builderVersion: header(headers, 'builder-version'),
  };
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

/** The version to put in `/v1.xx/` given what the daemon announced. */
export function chooseApiVersion(serverVersion: string | undefined): string {
  if (serverVersion === undefined) return MAX_API_VERSION;
  if (!isValidApiVersion(serverVersion)) {
    throw new ApiVersionError(`the daemon announced an invalid API version "${serverVersion.slice(0, 32)}"`);
  }
  if (compareApiVersions(serverVersion, MIN_API_VERSION) < 0) {
    throw new ApiVersionError(
      `API version ${serverVersion} is not supported by this client: the minimum supported API version is ${MIN_API_VERSION}`,
    );
  }
  return compareApiVersions(serverVersion, MAX_API_VERSION) < 0 ? serverVersion : MAX_API_VERSION;
}
