// The images of a data root. `oci/index.json` is the truth: one descriptor per reference (tag or digest), named by
// the annotation org.opencontainers.image.ref.name, so other OCI tools read the images. `meta/images.json` caches
// what `docker images` shows (image ID, platform, size, tag time) per reference.
//
// index.json lists only OCI-typed descriptors (see oci-view.ts): a Docker-typed target is listed through its OCI
// view, with the target itself recorded in the dockhand.target.* annotations so nothing is lost.
//
// Crash safety: both files are replaced atomically, in an order that leaves the metadata a superset of index.json
// (setTag writes metadata first, removeTag writes index.json first). At open, metadata for references index.json
// does not list, or for another target, is dropped, and missing metadata is derived again from the blobs.
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isAtomicTempName, writeFileAtomic } from '../../protocol/atomic-file.ts';
import { KeyedMutex } from '../../protocol/keyed-mutex.ts';
import { compareStrings } from '../string-order.ts';
import type { ContentStore } from './content-store.ts';
import { parseDigest } from './digest.ts';
import {
  AmbiguousImageIdError,
  BlobNotFoundError,
  CorruptContentError,
  CorruptLayoutError,
  InvalidArgumentError,
  RefNotFoundError,
} from './errors.ts';
import { deriveImageMeta, type ImageMeta, parseImageMeta } from './image-meta.ts';
import {
  type Descriptor,
  isObject,
  MEDIA_TYPES,
  type Platform,
  parseDescriptor,
  REF_NAME_ANNOTATION,
} from './oci.ts';
import { ensureOciView } from './oci-view.ts';
import { parseStoredRef } from './refs.ts';

export interface RefRecord {
  /** The full normalized reference, e.g. `docker.io/library/alpine:3.20` or `…/alpine@sha256:…`. */
  ref: string;
  /** The repository part of `ref`. */
  name: string;
  kind: 'tag' | 'digest';
  /** The top-level manifest or index the reference names (as pulled), without the ref.name annotation. */
  target: Descriptor;
  /** For a Docker-typed target: the OCI view index.json lists instead (see oci-view.ts). */
  view?: Descriptor;
  /** Undefined when the content is missing and could not be derived (the image is then not listed). */
  meta: ImageMeta | undefined;
  /** When the reference was set (docker's Metadata.LastTagTime), RFC 3339. */
  taggedAt: string;
}

/** One image as docker lists it: every reference whose image ID (config digest) is `id`. */
export interface ImageRecord {
  id: string;
  /** Tag references, sorted (full normalized form; the API layer shortens them). */
  repoTags: string[];
  /** Digest references `name@<top-level digest>`, sorted. */
  repoDigests: string[];
  refs: RefRecord[];
  /** From the most recently tagged reference. */
  manifestDigest: string;
  platform: Platform;
  size: number;
  created?: string;
  pulledAt?: string;
  lastTagTime: string;
}

interface Entry {
  target: Descriptor;
  view?: Descriptor;
  meta: ImageMeta | undefined;
  taggedAt: string;
}

interface MetaFileEntry {
  target: string;
  taggedAt: string;
  meta?: ImageMeta;
}

const META_VERSION = 1;
const TARGET_DIGEST = 'io.dockhand.target.digest';
const TARGET_MEDIA_TYPE = 'io.dockhand.target.mediaType';
const TARGET_SIZE = 'io.dockhand.target.size';

export class ImageIndex {
  readonly #content: ContentStore;
  readonly #entries: Map<string, Entry>;
  // Descriptors in index.json that name no reference (written by another tool): kept, and protected from GC.
  readonly #unnamed: Descriptor[];
  readonly #writes = new KeyedMutex();
  #generation = 0;
  #listed: { generation: number; images: readonly ImageRecord[] } | undefined;
  /** References whose metadata was missing or stale at open and was derived again. */
  readonly repaired: string[];

  private constructor(
    content: ContentStore,
    entries: Map<string, Entry>,
    unnamed: Descriptor[],
    repaired: string[],
  ) {
    this.#content = content;
    this.#entries = entries;
    this.#unnamed = unnamed;
    this.repaired = repaired;
  }

  static async open(content: ContentStore): Promise<ImageIndex> {
    const layout = content.layout;
    await removeTempFiles(layout.oci);
    await removeTempFiles(layout.meta);
    const { named, unnamed, exists } = await readIndexFile(layout.indexFile);
    const cached = await readMetaFile(layout.imagesFile);
    const entries = new Map<string, Entry>();
    const repaired: string[] = [];
    for (const [ref, { target, view }] of named) {
      const hit = cached.get(ref);
      if (hit && hit.target === target.digest && hit.meta) {
        entries.set(ref, withView({ target, meta: hit.meta, taggedAt: hit.taggedAt }, view));
        continue;
      }
      const meta = await tryDerive(content, target);
      entries.set(ref, withView({ target, meta, taggedAt: hit?.taggedAt ?? now() }, view));
      repaired.push(ref);
    }
    const index = new ImageIndex(content, entries, unnamed, repaired);
    const stale = [...cached.keys()].some((ref) => !entries.has(ref));
    if (!exists) await index.#writeIndex();
    if (repaired.length > 0 || stale) await index.#writeMeta();
    return index;
  }

  /**
   * Points each reference at `target` (a manifest or index already in the store). Without `meta`, it is derived
   * from the content (for an index: the child present for this host's platform). Digest references must name
   * `target`'s own digest.
   */
  async setTag(refs: string | string[], target: Descriptor, meta?: ImageMeta): Promise<RefRecord[]> {
    const list = typeof refs === 'string' ? [refs] : refs;
    const descriptor = parseDescriptor(target, 'target');
    const { [REF_NAME_ANNOTATION]: _, ...annotations } = descriptor.annotations ?? {};
    if (Object.keys(annotations).length > 0) descriptor.annotations = annotations;
    else delete descriptor.annotations;
    for (const ref of list) {
      const parsed = parseStoredRef(ref);
      if (parsed.digest && parsed.digest !== descriptor.digest) {
        throw new InvalidArgumentError(
          'ref',
          `${ref} names another digest than the target ${descriptor.digest}`,
        );
      }
    }
    const given = meta && parseImageMeta(meta);
    // Inside the serial section: the garbage collector cannot run between the checks and the write.
    return this.#serial(async () => {
      if (!(await this.#content.has(descriptor.digest))) throw new BlobNotFoundError(descriptor.digest);
      const resolved = given ?? (await deriveImageMeta(this.#content, descriptor));
      const view = await ensureOciView(this.#content, descriptor);
      const entry = withView({ target: descriptor, meta: resolved, taggedAt: now() }, view);
      await this.#update(list, () => {
        for (const ref of list) this.#entries.set(ref, entry);
      });
      return list.map((ref) => this.getByRef(ref)!);
    });
  }

  /** Removes the references (all or none: RefNotFoundError names the first unknown one). */
  async removeTag(refs: string | string[]): Promise<RefRecord[]> {
    const list = typeof refs === 'string' ? [refs] : refs;
    return this.#serial(async () => {
      const removed = list.map((ref) => {
        const record = this.getByRef(ref);
        if (!record) throw new RefNotFoundError(ref);
        return record;
      });
      await this.#update(list, () => {
        for (const ref of list) this.#entries.delete(ref);
      });
      return removed;
    });
  }

  getByRef(ref: string): RefRecord | undefined {
    const entry = this.#entries.get(ref);
    return entry && toRecord(ref, entry);
  }

  /**
   * The image whose ID is `idOrPrefix` (`sha256:<hex>`, `<hex>` or a prefix of the hex, as docker accepts), or
   * undefined. AmbiguousImageIdError when a prefix matches several images.
   */
  getById(idOrPrefix: string): ImageRecord | undefined {
    const hex = idOrPrefix.startsWith('sha256:') ? idOrPrefix.slice(7) : idOrPrefix;
    if (!/^[0-9a-f]{1,64}$/.test(hex)) return undefined;
    const matches = this.list().filter((image) => image.id.slice(7).startsWith(hex));
    if (matches.length > 1) {
      throw new AmbiguousImageIdError(
        idOrPrefix,
        matches.map((m) => m.id),
      );
    }
    return matches[0];
  }

  /** Changes whenever a reference is set or removed: a list derived from the references is stale once it moves. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Every image with metadata, one per image ID, most recently tagged first. Built once per generation and shared
   * by every caller until a reference changes (GET /images/json runs it on every request): do not mutate it.
   */
  list(): readonly ImageRecord[] {
    if (this.#listed?.generation !== this.#generation) {
      this.#listed = { generation: this.#generation, images: this.#group() };
    }
    return this.#listed.images;
  }

  #group(): ImageRecord[] {
    const byId = new Map<string, RefRecord[]>();
    for (const record of this.refs()) {
      if (!record.meta) continue;
      const group = byId.get(record.meta.imageId) ?? [];
      group.push(record);
      byId.set(record.meta.imageId, group);
    }
    return [...byId.entries()]
      .map(([id, refs]) => toImage(id, refs))
      .sort((a, b) => compareStrings(b.lastTagTime, a.lastTagTime) || compareStrings(a.id, b.id));
  }

  refs(): RefRecord[] {
    return [...this.#entries].map(([ref, entry]) => toRecord(ref, entry));
  }

  /** Every descriptor index.json lists or records: the roots of garbage collection. */
  roots(): Descriptor[] {
    const named = [...this.#entries.values()].flatMap((e) => (e.view ? [e.target, e.view] : [e.target]));
    return [...named, ...this.#unnamed];
  }

  /** Runs `fn` while no reference changes: the garbage collector marks and sweeps inside it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#serial(fn);
  }

  /**
   * Applies `change` to the references `refs` in memory, then writes both files in the crash-safe order: metadata
   * first when references are added, index.json first when they are removed. A failed write restores memory.
   */
  async #update(refs: string[], change: () => void): Promise<void> {
    const before = new Map(refs.map((ref) => [ref, this.#entries.get(ref)]));
    change();
    this.#generation++;
    const adding = refs.some((ref) => this.#entries.has(ref));
    try {
      if (adding) {
        await this.#writeMeta();
        await this.#writeIndex();
      } else {
        await this.#writeIndex();
        await this.#writeMeta();
      }
    } catch (error) {
      for (const [ref, entry] of before) {
        if (entry) this.#entries.set(ref, entry);
        else this.#entries.delete(ref);
      }
      this.#generation++;
      throw error;
    }
  }

  async #serial<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.#writes.acquire('index');
    try {
      return await fn();
    } finally {
      release();
    }
  }

  async #writeIndex(): Promise<void> {
    const manifests = [...this.#entries]
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([ref, { target, view }]) =>
        view
          ? {
              ...view,
              annotations: {
                [REF_NAME_ANNOTATION]: ref,
                [TARGET_DIGEST]: target.digest,
                [TARGET_MEDIA_TYPE]: target.mediaType,
                [TARGET_SIZE]: String(target.size),
              },
            }
          : { ...target, annotations: { ...target.annotations, [REF_NAME_ANNOTATION]: ref } },
      );
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [...manifests, ...this.#unnamed],
    };
    await writeFileAtomic(this.#content.layout.indexFile, `${JSON.stringify(index, null, 2)}\n`);
  }

  async #writeMeta(): Promise<void> {
    const refs: Record<string, MetaFileEntry> = {};
    for (const [ref, { target, meta, taggedAt }] of [...this.#entries].sort(([a], [b]) =>
      compareStrings(a, b),
    )) {
      refs[ref] = meta ? { target: target.digest, taggedAt, meta } : { target: target.digest, taggedAt };
    }
    await writeFileAtomic(
      this.#content.layout.imagesFile,
      `${JSON.stringify({ version: META_VERSION, refs }, null, 2)}\n`,
    );
  }
}

function toRecord(ref: string, entry: Entry): RefRecord {
  const parsed = parseStoredRef(ref);
  const record: RefRecord = {
    ref,
    name: parsed.name,
    kind: parsed.digest ? 'digest' : 'tag',
    target: entry.target,
    meta: entry.meta,
    taggedAt: entry.taggedAt,
  };
  if (entry.view) record.view = entry.view;
  return record;
}

function withView(entry: Entry, view: Descriptor | undefined): Entry {
  return view ? { ...entry, view } : entry;
}

function toImage(id: string, refs: RefRecord[]): ImageRecord {
  const latest = refs.reduce((a, b) => (b.taggedAt > a.taggedAt ? b : a));
  const meta = latest.meta!;
  const image: ImageRecord = {
    id,
    repoTags: refs
      .filter((r) => r.kind === 'tag')
      .map((r) => r.ref)
      .sort(),
    repoDigests: refs
      .filter((r) => r.kind === 'digest')
      .map((r) => r.ref)
      .sort(),
    refs,
    manifestDigest: meta.manifestDigest,
    platform: meta.platform,
    size: meta.size,
    lastTagTime: latest.taggedAt,
  };
  if (meta.created !== undefined) image.created = meta.created;
  if (meta.pulledAt !== undefined) image.pulledAt = meta.pulledAt;
  return image;
}

async function readIndexFile(path: string): Promise<{
  named: Map<string, { target: Descriptor; view?: Descriptor }>;
  unnamed: Descriptor[];
  exists: boolean;
}> {
  const named = new Map<string, { target: Descriptor; view?: Descriptor }>();
  const unnamed: Descriptor[] = [];
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { named, unnamed, exists: false };
    throw error;
  }
  // index.json holds the only record of which images exist: refuse to start rather than overwrite it.
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CorruptLayoutError(path, `not JSON (${(error as Error).message})`);
  }
  if (!isObject(json) || !Array.isArray(json.manifests))
    throw new CorruptLayoutError(path, 'no manifests array');
  json.manifests.forEach((value, i) => {
    let descriptor: Descriptor;
    try {
      descriptor = parseDescriptor(value, `manifests[${i}]`);
    } catch (error) {
      throw new CorruptLayoutError(path, (error as Error).message);
    }
    const ref = descriptor.annotations?.[REF_NAME_ANNOTATION];
    if (ref === undefined || named.has(ref) || !isStoredRef(ref)) {
      unnamed.push(descriptor);
      return;
    }
    const { [REF_NAME_ANNOTATION]: _, ...rest } = descriptor.annotations!;
    if (Object.keys(rest).length > 0) descriptor.annotations = rest;
    else delete descriptor.annotations;
    const target = recordedTarget(rest);
    if (target) {
      delete descriptor.annotations;
      named.set(ref, { target, view: descriptor });
    } else {
      named.set(ref, { target: descriptor });
    }
  });
  return { named, unnamed, exists: true };
}

// The metadata file is a cache: anything unreadable in it is dropped and derived again.
async function readMetaFile(path: string): Promise<Map<string, MetaFileEntry>> {
  const out = new Map<string, MetaFileEntry>();
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return out;
  }
  if (!isObject(json) || json.version !== META_VERSION || !isObject(json.refs)) return out;
  for (const [ref, value] of Object.entries(json.refs)) {
    if (!isObject(value) || typeof value.taggedAt !== 'string') continue;
    try {
      const entry: MetaFileEntry = { target: parseDigest(value.target).value, taggedAt: value.taggedAt };
      if (value.meta !== undefined) entry.meta = parseImageMeta(value.meta);
      out.set(ref, entry);
    } catch {
      // dropped: derived again from the blobs
    }
  }
  return out;
}

/** The target a view stands for, from the dockhand.target.* annotations; undefined when they are absent or invalid. */
function recordedTarget(annotations: Record<string, string>): Descriptor | undefined {
  if (annotations[TARGET_DIGEST] === undefined) return undefined;
  try {
    return parseDescriptor({
      mediaType: annotations[TARGET_MEDIA_TYPE],
      digest: annotations[TARGET_DIGEST],
      size: Number(annotations[TARGET_SIZE]),
    });
  } catch {
    return undefined;
  }
}

async function tryDerive(content: ContentStore, target: Descriptor): Promise<ImageMeta | undefined> {
  try {
    return await deriveImageMeta(content, target);
  } catch (error) {
    if (error instanceof BlobNotFoundError || error instanceof CorruptContentError) return undefined;
    throw error;
  }
}

function isStoredRef(ref: string): boolean {
  try {
    parseStoredRef(ref);
    return true;
  } catch {
    return false;
  }
}

async function removeTempFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (isAtomicTempName(name)) await unlink(join(dir, name)).catch(() => {});
  }
}

function now(): string {
  return new Date().toISOString();
}
