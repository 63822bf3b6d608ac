// The typed error for a registry answer that is not what the API gives on success, by what was asked for.

import { describeRegistryErrors } from '../../protocol/index.ts';
import {
  CatalogNotGrantedError,
  CatalogUnsupportedError,
  type RegistryBrowseError,
  RegistryNotFoundError,
  RegistryResponseError,
  RepositoryAccessDeniedError,
} from './errors.ts';
import type { RegistryAnswer } from './registry-fetch.ts';

export type BrowsedResource =
  | { kind: 'catalog' }
  | { kind: 'tags'; repository: string }
  | { kind: 'manifest'; repository: string; reference: string };

export function refusal(
  registry: string,
  resource: BrowsedResource,
  answer: RegistryAnswer,
): RegistryBrowseError {
  const { code, text } = describeRegistryErrors(answer.body.toString('utf8'));
  const { status } = answer;
  if (status === 401 || status === 403) {
    return resource.kind === 'catalog'
      ? new CatalogNotGrantedError(registry, status)
      : new RepositoryAccessDeniedError(registry, resource.repository, status);
  }
  if (status === 404) {
    if (resource.kind === 'catalog') return new CatalogUnsupportedError(registry);
    const name =
      resource.kind === 'tags'
        ? `repository ${resource.repository}`
        : `manifest ${resource.repository}:${resource.reference}`;
    return new RegistryNotFoundError(registry, name, code);
  }
  return new RegistryResponseError(
    registry,
    status,
    'status',
    `registry ${registry} answered ${status} to GET ${answer.url.pathname}${text ? `: ${text.slice(0, 200)}` : ''}`,
  );
}

/** The JSON of a 2xx body, or RegistryResponseError naming what it should have been. */
export function jsonBody(registry: string, answer: RegistryAnswer, what: string): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch (error) {
    throw new RegistryResponseError(
      registry,
      answer.status,
      'body',
      `registry ${registry}: ${what} is not JSON`,
      {
        cause: error,
      },
    );
  }
}
