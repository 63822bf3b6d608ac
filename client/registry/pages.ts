// Listings a registry hands out a page at a time (`?n=<size>&last=<name>`), each page naming the next one in a
// `Link: <…>; rel="next"` header. Pages are fetched as the caller consumes them, so stopping early stops the requests.
// A next link resolves against the URL that answered and must stay on the registry's origin.

import { findLink, parseLinkHeader } from '../../protocol/index.ts';
import { RegistryResponseError } from './errors.ts';
import type { RegistryOrigin } from './origin.ts';
import { type BrowsedResource, jsonBody, refusal } from './refusal.ts';
import type { RegistryAnswer, RegistryFetcher } from './registry-fetch.ts';

/** A page holds names only; a registry that ignores `n` still cannot make the SDK hold more than this. */
export const PAGE_BODY_LIMIT = 4 * 1024 * 1024;

export interface Listing {
  fetcher: RegistryFetcher;
  registry: RegistryOrigin;
  resource: BrowsedResource;
  first: URL;
  /** The names one page's JSON holds; throws RegistryResponseError when it is not the listing's shape. */
  names: (page: unknown) => string[];
}

export async function* listPages(listing: Listing): AsyncGenerator<string, void, undefined> {
  const { host } = listing.registry;
  const repository = listing.resource.kind === 'catalog' ? '' : listing.resource.repository;
  const what = listing.resource.kind === 'catalog' ? 'catalog page' : `tags page of ${repository}`;
  const visited = new Set<string>();
  let url: URL | undefined = listing.first;
  while (url !== undefined) {
    visited.add(url.href);
    const answer = await listing.fetcher.get({
      url,
      repository,
      accept: 'application/json',
      limit: PAGE_BODY_LIMIT,
      what,
    });
    if (answer.status !== 200) throw refusal(host, listing.resource, answer);
    yield* listing.names(jsonBody(host, answer, what));
    url = nextPage(listing.registry, answer, visited);
  }
}

function nextPage(registry: RegistryOrigin, answer: RegistryAnswer, visited: Set<string>): URL | undefined {
  const target = findLink(parseLinkHeader(answer.headers['link']), 'next');
  if (target === undefined) return undefined;
  const refuse = (why: string) =>
    new RegistryResponseError(registry.host, answer.status, 'link', `registry ${registry.host}: ${why}`);
  let url: URL;
  try {
    url = new URL(target, answer.url);
  } catch {
    throw refuse('its next-page link is not a URL');
  }
  if (url.origin !== registry.origin) {
    throw refuse(`its next-page link leaves ${registry.origin} for ${url.origin}: not followed`);
  }
  if (visited.has(url.href)) throw refuse('its next-page links go round in a circle');
  return url;
}

/** The string array at `field` of a page (`null` or absent reads as empty, as registries send for no tags). */
export function namesAt(registry: string, field: string): (page: unknown) => string[] {
  return (page) => {
    if (typeof page === 'object' && page !== null && !Array.isArray(page)) {
      const value = (page as Record<string, unknown>)[field];
      if (value === undefined || value === null) return [];
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
    }
    throw new RegistryResponseError(
      registry,
      200,
      'body',
      `registry ${registry}: the page's "${field}" is not a list of names`,
    );
  };
}
