// GET /v2/_catalog: every repository a registry holds, as far as this login may see them (`registry:catalog:*`).

import { registryOrigin } from './origin.ts';
import { listPages, namesAt } from './pages.ts';
import { type BrowseOptions, RegistryFetcher } from './registry-fetch.ts';

export interface ListOptions extends BrowseOptions {
  /** Names per request (`n`); the registry's default when left out. */
  pageSize?: number;
}

/**
 * The registry's repositories in its order, fetched a page at a time as they are consumed. Fails with
 * CatalogNotGrantedError when the login may not list them, CatalogUnsupportedError when there is no catalog API.
 */
export async function* listRepositories(
  registry: string,
  options: ListOptions = {},
): AsyncGenerator<string, void, undefined> {
  const target = registryOrigin(registry);
  yield* listPages({
    fetcher: new RegistryFetcher(target, options),
    registry: target,
    resource: { kind: 'catalog' },
    first: firstPage(target.origin, '/v2/_catalog', options.pageSize),
    names: namesAt(target.host, 'repositories'),
  });
}

/** The first page's URL: `n` only when a page size was asked for. */
export function firstPage(origin: string, path: string, pageSize: number | undefined): URL {
  const url = new URL(path, origin);
  if (pageSize !== undefined) {
    if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
      throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
    }
    url.searchParams.set('n', String(pageSize));
  }
  return url;
}
