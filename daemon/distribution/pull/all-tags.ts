// `docker pull -a`: every tag of a repository, listed before the stream starts (so a refusal or a challenge is an
// HTTP status), then pulled one after the other as dockerd does: each tag's "Pulling from" and layer lines, and one
// status line for the whole repository at the end.

import { familiarName, type Platform, parseReference, type Reference } from '../../../protocol/index.ts';
import type { AuthMode } from '../auth/auth-mode.ts';
import type { Progress } from '../progress.ts';
import { Pull, type PullDeps } from './pull.ts';

export interface AllTagsRequest {
  /** The repository, without tag or digest. */
  reference: Reference;
  platform: Platform;
  mode: AuthMode;
}

/** Tags asked for per page (`?n=`); registries that allow fewer send a Link to the next page all the same. */
const TAG_PAGE_SIZE = 1000;

export class AllTagsPull {
  readonly #deps: PullDeps;
  readonly #request: AllTagsRequest;
  readonly #tags: string[];

  private constructor(deps: PullDeps, request: AllTagsRequest, tags: string[]) {
    this.#deps = deps;
    this.#request = request;
    this.#tags = tags;
  }

  static async prepare(deps: PullDeps, request: AllTagsRequest, signal: AbortSignal): Promise<AllTagsPull> {
    const ref = request.reference;
    const repo = await deps.access.repository(ref.domain, ref.path, request.mode, { signal });
    return new AllTagsPull(deps, request, await repo.listTags(TAG_PAGE_SIZE));
  }

  /** The familiar repository name the final status line names (127.0.0.1:5000/small). */
  get familiar(): string {
    return familiarName(this.#request.reference);
  }

  /** Pulls each tag in turn; `pulled` is told each tag's familiar reference once it is stored. */
  async run(progress: Progress, signal: AbortSignal, pulled: (familiar: string) => void): Promise<void> {
    let downloaded = false;
    for (const tag of this.#tags) {
      const reference = parseReference(`${this.#request.reference.name}:${tag}`);
      const pull = await Pull.prepare(this.#deps, { ...this.#request, reference }, signal);
      const outcome = await pull.run(progress, signal, { statusLine: false });
      downloaded ||= outcome === 'downloaded';
      pulled(pull.familiar);
    }
    const status = downloaded ? 'Downloaded newer image' : 'Image is up to date';
    progress({ status: `Status: ${status} for ${this.familiar}` });
  }
}
