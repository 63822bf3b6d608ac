// GET /v2/<name>/tags/list: the tags of one repository (`repository:<name>:pull`).

import { InvalidReferenceError, parseReference } from '../../protocol/index.ts';
import { firstPage, type ListOptions } from './catalog.ts';
import { registryOrigin } from './origin.ts';
import { listPages, namesAt } from './pages.ts';
import { RegistryFetcher } from './registry-fetch.ts';

/**
 * The tags of `repository` (`host[:port]/name`, or a Docker Hub name such as `alpine`), a page at a time.
 * Fails with RepositoryAccessDeniedError when the login may not pull it, RegistryNotFoundError when it does not exist.
 */
export async function* listTags(
  repository: string,
  options: ListOptions = {},
): AsyncGenerator<string, void, undefined> {
  const ref = parseReference(repository);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new InvalidReferenceError(repository, 'format', 'a repository name has no tag or digest');
  }
  const target = registryOrigin(ref.domain);
  yield* listPages({
    fetcher: new RegistryFetcher(target, options),
    registry: target,
    resource: { kind: 'tags', repository: ref.path },
    first: firstPage(target.origin, `/v2/${ref.path}/tags/list`, options.pageSize),
    names: namesAt(target.host, 'tags'),
  });
}
