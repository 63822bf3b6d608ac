// GET /images/json: the summaries of every image, and the answers to filtered lists, kept while the image index does
// not change. Everything that walks the images runs in time slices (see daemon/time-slice.ts).

import type { ImageFilters, ImageSummary } from '../../api-spec/types.ts';
import { InvalidParameterError } from '../errors.ts';
import { compilePathPattern, InvalidPatternError, type PathPattern } from '../filters/path-match.ts';
import type { ImageIndex, ImageRecord } from '../store/index.ts';
import { compareStrings } from '../string-order.ts';
import { TimeSlice } from '../time-slice.ts';
import type { ImageConfigJson, ImageConfigs } from './image-configs.ts';
import { familiarOf } from './references.ts';

/** Filtered answers kept per generation of the index: a script polling a few filters finds its answer built. */
const MAX_FILTERED_ANSWERS = 8;

/** What the listing reads: the images, their configs, and the creation time of a named image (before/since). */
export interface ListingSource {
  readonly images: Pick<ImageIndex, 'generation' | 'list'>;
  readonly configs: Pick<ImageConfigs, 'of'>;
  /** Throws NotFoundError when `name` is no local image. */
  createdOf(name: string): string | undefined;
}

/** One listed image: its summary as GET /images/json shows it, and what the filters look at. */
interface Listed {
  summary: ImageSummary;
  /** The config's created time in ms (0 when absent or invalid), for before/since. */
  created: number;
  /** RepoTags without their tags, for reference patterns that name only the repository. */
  repositories: string[];
  /** RepoDigests without their digests, likewise. */
  digestRepositories: string[];
  /**
   * Summaries with some of the tags and digests, made for reference filters, by the references they keep: the same
   * object for the same result, so the server serializes each once (see daemon/server/json-array-body.ts).
   */
  narrowed?: Map<string, ImageSummary>;
}

/** Narrowed summaries kept per image: a few reference filters in use at a time. */
const MAX_NARROWED = 8;

/** The images of one generation of the index, and the filtered answers given from them. */
interface Generation {
  generation: number;
  built: Promise<Built>;
  /** Keyed by the filters in canonical form, most recently used last. */
  answers: Map<string, Promise<readonly ImageSummary[]>>;
}

interface Built {
  listed: Listed[];
  summaries: readonly ImageSummary[];
  /** False when a config could not be read: the answer is given, but this generation is not kept. */
  complete: boolean;
}

/**
 * A filter compiled once per request, tried on each listed image: the summary to show (a reference filter keeps only
 * the matching tags and digests, as moby does), or undefined to leave the image out.
 */
type ImageFilter = (image: Listed, shown: ImageSummary) => ImageSummary | undefined;

export class ImageListing {
  readonly #source: ListingSource;
  #current: Generation | undefined;

  constructor(source: ListingSource) {
    this.#source = source;
  }

  /**
   * The same array is handed back for the same filters until the images change, so the server encodes each answer
   * once (see daemon/server/json-array-body.ts): callers only read it.
   */
  async list(filters: ImageFilters): Promise<readonly ImageSummary[]> {
    const compiled = this.#compileFilters(filters);
    const current = this.#generation();
    if (compiled.length === 0) return (await current.built).summaries;
    const key = canonicalKey(filters);
    const { answers } = current;
    let answer = answers.get(key);
    if (answer) {
      // Set again below, as the most recently used.
      answers.delete(key);
    } else {
      const filtered = current.built.then(({ listed }) => applyFilters(listed, compiled));
      filtered.catch(() => answers.get(key) === filtered && answers.delete(key));
      if (answers.size >= MAX_FILTERED_ANSWERS) answers.delete(answers.keys().next().value as string);
      answer = filtered;
    }
    answers.set(key, answer);
    return answer;
  }

  /**
   * The summaries of every image, built once per generation of the image index (a tag, pull or removal starts a new
   * one) and shared by the requests until then.
   */
  #generation(): Generation {
    const { images } = this.#source;
    const generation = images.generation;
    if (this.#current?.generation !== generation) {
      const current: Generation = {
        generation,
        built: this.#build(images.list()),
        answers: new Map(),
      };
      this.#current = current;
      // The next request reads a missing config again.
      const forget = () => {
        if (this.#current === current) this.#current = undefined;
      };
      current.built.then(({ complete }) => complete || forget(), forget);
    }
    return this.#current;
  }

  /** Reads the configs together (each once, see ImageConfigs), then builds the summaries in slices. */
  async #build(images: readonly ImageRecord[]): Promise<Built> {
    const configs = await Promise.all(images.map((image) => this.#source.configs.of(image)));
    const slice = new TimeSlice();
    const listed: Listed[] = [];
    let complete = true;
    for (const [i, image] of images.entries()) {
      if (slice.spent()) await slice.next();
      const config = configs[i];
      if (!config) complete = false;
      listed.push(listedImage(image, config ?? {}));
    }
    return { listed, summaries: listed.map((image) => image.summary), complete };
  }

  /**
   * Checks every filter before listing, as moby does: an unknown key or a missing before/since image fails. The
   * reference filter, which may narrow the summary, is tried last (the others keep it or leave the image out).
   */
  #compileFilters(filters: ImageFilters): ImageFilter[] {
    const compiled: ImageFilter[] = [];
    let reference: ImageFilter | undefined;
    for (const [key, values] of Object.entries(filters)) {
      if (values.length === 0) continue;
      if (key === 'dangling') {
        const wanted = values.map((v) => v === 'true' || v === '1');
        compiled.push(keepIf((image) => wanted.includes(image.summary.RepoTags.length === 0)));
      } else if (key === 'reference') {
        const patterns = values.map(referencePattern);
        reference = (image) => {
          const tags = matching(patterns, image.summary.RepoTags, image.repositories);
          if (tags.length === 0) return undefined;
          return narrowed(
            image,
            tags,
            matching(patterns, image.summary.RepoDigests, image.digestRepositories),
          );
        };
      } else if (key === 'label') {
        const wanted = values.map(labelFilter);
        compiled.push(keepIf((image) => labelsMatch(wanted, image.summary.Labels)));
      } else if (key === 'before' || key === 'since') {
        const pivot = Date.parse(this.#source.createdOf(values[0] as string) ?? '') || 0;
        compiled.push(
          keepIf(key === 'before' ? (image) => image.created < pivot : (image) => image.created > pivot),
        );
      } else {
        throw new InvalidParameterError(`invalid filter '${key}'`);
      }
    }
    if (reference) compiled.push(reference);
    return compiled;
  }
}

async function applyFilters(listed: Listed[], filters: ImageFilter[]): Promise<readonly ImageSummary[]> {
  const slice = new TimeSlice();
  const summaries: ImageSummary[] = [];
  // Index loops here and below: an iterator would be allocated on every image of every filtered list.
  for (let i = 0; i < listed.length; i++) {
    if (slice.spent()) await slice.next();
    const image = listed[i] as Listed;
    let shown: ImageSummary | undefined = image.summary;
    for (const filter of filters) shown = shown && filter(image, shown);
    if (shown) summaries.push(shown);
  }
  return summaries;
}

/** The filters that select something, by key; a key's values keep their order (before/since use the first). */
function canonicalKey(filters: ImageFilters): string {
  const selecting = Object.entries(filters).filter(([, values]) => values.length > 0);
  return JSON.stringify(selecting.sort(([a], [b]) => compareStrings(a, b)));
}

/** The image's summary with only these tags and digests (the same object for the same ones). */
function narrowed(image: Listed, tags: string[], digests: string[]): ImageSummary {
  const { summary } = image;
  if (tags.length === summary.RepoTags.length && digests.length === summary.RepoDigests.length)
    return summary;
  const key = `${tags.join(' ')}\n${digests.join(' ')}`;
  image.narrowed ??= new Map();
  let shown = image.narrowed.get(key);
  if (!shown) {
    if (image.narrowed.size >= MAX_NARROWED) image.narrowed.clear();
    shown = summaryWith(summary, tags, digests);
    image.narrowed.set(key, shown);
  }
  return shown;
}

/** moby's FamiliarMatch: the references (tags or digests) a pattern matches, whole or by their repository alone. */
function matching(patterns: PathPattern[], references: string[], repositories: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < references.length; i++) {
    const reference = references[i] as string;
    const repository = repositories[i] as string;
    for (const pattern of patterns) {
      if (pattern.test(reference) || pattern.test(repository)) {
        kept.push(reference);
        break;
      }
    }
  }
  return kept;
}

function keepIf(predicate: (image: Listed) => boolean): ImageFilter {
  return (image, shown) => (predicate(image) ? shown : undefined);
}

function listedImage(image: ImageRecord, config: ImageConfigJson): Listed {
  const repoTags = image.repoTags.map(familiarOf);
  const repoDigests = image.repoDigests.map(familiarOf);
  return {
    summary: summaryWith(
      {
        Id: image.id,
        Created: image.created ? Math.floor(Date.parse(image.created) / 1000) : 0,
        Size: image.size,
        Labels: labelsOf(config),
      },
      repoTags,
      repoDigests,
    ),
    created: Date.parse(image.created ?? '') || 0,
    repositories: repoTags.map((tag) => tag.slice(0, tag.lastIndexOf(':'))),
    digestRepositories: repoDigests.map((digest) => digest.slice(0, digest.indexOf('@'))),
  };
}

/**
 * A summary in the one field order every answer has (the JSON keeps it), with these tags and digests. Written out
 * rather than spread: a spread summary takes several times the memory and time, on every filtered list.
 */
function summaryWith(
  image: Pick<ImageSummary, 'Id' | 'Created' | 'Size' | 'Labels'>,
  repoTags: string[],
  repoDigests: string[],
): ImageSummary {
  return {
    Id: image.Id,
    ParentId: '',
    RepoTags: repoTags,
    RepoDigests: repoDigests,
    Created: image.Created,
    Size: image.Size,
    SharedSize: -1,
    Labels: image.Labels,
    Containers: -1,
  };
}

function labelsOf(config: ImageConfigJson): Record<string, string> {
  const labels = config.config?.Labels;
  return typeof labels === 'object' && labels !== null ? (labels as Record<string, string>) : {};
}

/** A label filter, `key` or `key=value`, parsed once per list rather than on each image. */
function labelFilter(filter: string): { key: string; value?: string } {
  const eq = filter.indexOf('=');
  return eq === -1 ? { key: filter } : { key: filter.slice(0, eq), value: filter.slice(eq + 1) };
}

function labelsMatch(filters: { key: string; value?: string }[], labels: Record<string, string>): boolean {
  for (let i = 0; i < filters.length; i++) {
    const { key, value } = filters[i] as { key: string; value?: string };
    // Own keys only: `label=constructor` names no label.
    if (!Object.hasOwn(labels, key) || (value !== undefined && labels[key] !== value)) return false;
  }
  return true;
}

/** docker's reference filter: a glob over the familiar repository (and tag, when the pattern has one). */
function referencePattern(pattern: string): PathPattern {
  try {
    return compilePathPattern(pattern);
  } catch (err) {
    if (err instanceof InvalidPatternError)
      throw new InvalidParameterError(`invalid reference filter: ${err.message}`);
    throw err;
  }
}
