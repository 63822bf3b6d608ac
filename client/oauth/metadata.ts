// RFC 8414 authorization server metadata, looked up at an issuer's origin
// (`/.well-known/oauth-authorization-server`, with the issuer's path appended when it has one). The document's
// `issuer` must be the issuer asked for (RFC 8414 3.3), and its endpoints pass the realm policy of the registry
// they serve (no downgrade to http, no private addresses), as a challenge's realm does.

import type { Dispatcher } from 'undici';
import { checkRealm, type RegistryEndpoint, TokenRequestError } from '../../protocol/index.ts';
import { requestJson } from './http-json.ts';

export interface AuthorizationServerMetadata {
  issuer: string;
  tokenEndpoint: URL;
  /** Present when the server supports the device authorization grant (RFC 8628). */
  deviceAuthorizationEndpoint?: URL;
  grantTypesSupported?: string[];
}

export interface DiscoveryOptions {
  /** The registry the authorization server serves, for the realm policy. */
  registry: RegistryEndpoint;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
}

export function metadataUrl(issuer: URL): URL {
  const path = issuer.pathname === '/' ? '' : issuer.pathname.replace(/\/$/, '');
  return new URL(`/.well-known/oauth-authorization-server${path}`, issuer.origin);
}

/** The metadata, or undefined when the server publishes none (404 or an answer that is not a JSON object). */
export async function discoverAuthorizationServer(
  issuer: URL,
  options: DiscoveryOptions,
): Promise<AuthorizationServerMetadata | undefined> {
  const url = metadataUrl(issuer);
  const answer = await requestJson(url, {
    registryHost: options.registry.host,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (answer.status === 404 || answer.status === 410) return undefined;
  if (answer.status !== 200) {
    throw new TokenRequestError(answer.status, 'metadata', `${url.href} answered ${answer.status}`);
  }
  return parseMetadata(answer.body, issuer, options.registry);
}

export function parseMetadata(
  body: unknown,
  issuer: URL,
  registry: RegistryEndpoint,
): AuthorizationServerMetadata | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  const invalid = (field: string, reason: string) =>
    new TokenRequestError(200, 'metadata', `authorization server metadata: ${field} ${reason}`, { field });
  const issued = fields['issuer'];
  if (typeof issued !== 'string' || trimSlash(issued) !== trimSlash(issuer.href)) {
    throw invalid('issuer', `must be ${trimSlash(issuer.href)}`);
  }
  const endpoint = (field: string): URL | undefined => {
    const value = fields[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalid(field, 'is not a string');
    return checkRealm(value, registry);
  };
  const tokenEndpoint = endpoint('token_endpoint');
  if (tokenEndpoint === undefined) throw invalid('token_endpoint', 'is missing');
  const device = endpoint('device_authorization_endpoint');
  const grants = fields['grant_types_supported'];
  return {
    issuer: issued,
    tokenEndpoint,
    ...(device ? { deviceAuthorizationEndpoint: device } : {}),
    ...(Array.isArray(grants) ? { grantTypesSupported: grants.filter((g) => typeof g === 'string') } : {}),
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
