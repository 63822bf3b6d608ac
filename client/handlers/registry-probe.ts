// How a registry authenticates, asked directly as `docker login` does: GET /v2/ (https, or http for a plain-http
// registry), unauthenticated or with Basic; its status and WWW-Authenticate lines say the rest.

import { type Dispatcher, request } from 'undici';
import { registryHostOf } from '../../protocol/index.ts';
import { registryHostKey } from '../../protocol/registry-host.ts';
import { isPlainHttpRegistry } from './plain-http.ts';

export interface RegistryProbeOptions {
  /** Registries spoken to over plain http (loopback ones are, unlisted). */
  insecureRegistries?: string[];
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
}

export interface RegistryProbe {
  /** The store key (`host[:port]`, `docker.io` for Docker Hub). */
  key: string;
  /** The host actually asked (`registry-1.docker.io` for Docker Hub). */
  host: string;
  plainHttp: boolean;
  url: string;
  status: number;
  /** The WWW-Authenticate lines, as sent. */
  challenges: string[];
}

const PROBE_TIMEOUT_MS = 15_000;

export async function probeRegistry(
  registry: string,
  options: RegistryProbeOptions = {},
  authorization?: string,
): Promise<RegistryProbe> {
  const key = registryHostKey(registry);
  const host = registryHostOf(key);
  const plainHttp = isPlainHttpRegistry(host, options.insecureRegistries ?? []);
  const url = `${plainHttp ? 'http' : 'https'}://${host}/v2/`;
  const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  const response = await request(url, {
    method: 'GET',
    headers: authorization ? { authorization } : {},
    signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  await response.body.dump();
  const header = response.headers['www-authenticate'];
  return {
    key,
    host,
    plainHttp,
    url,
    status: response.statusCode,
    challenges: header === undefined ? [] : Array.isArray(header) ? header : [header],
  };
}
