// `docker load`: an image archive streamed into the content store. The archive is read once, entry by entry:
//   1. `blobs/<alg>/<hex>` entries go straight through the verified ingest (their name is their digest);
//      small JSON files (manifest.json, index.json, configs) are kept in memory (each capped);
//      anything else (legacy `<id>/layer.tar`, skopeo's `<hex>.tar`) is spooled to disk while hashed, then ingested
//      under the digest it hashed to.
//   2. Then the images are resolved from manifest.json (docker's archives old and new, skopeo's docker-archive:) or
//      else index.json (skopeo's oci-archive:): every descriptor's size is checked against the stored blob, every
//      layer against the config's diff_id.
// Every digest is held by the caller's lease, so the caller can tag the images only once all of them are stored, and
// on failure drop the lease and collect what the load left.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { parseReference } from '../../protocol/index.ts';
import { newHash, parseDigest } from '../store/digest.ts';
import {
  type ContentStore,
  type Descriptor,
  DigestMismatchError,
  digestOf,
  type Lease,
  MEDIA_TYPES,
  SizeMismatchError,
  SMALL_BLOB_LIMIT,
} from '../store/index.ts';
import { isObject, parseContent } from '../store/oci.ts';
import {
  type DockerManifestEntry,
  type IndexEntry,
  parseDockerManifest,
  parseOciIndex,
} from './archive-files.ts';
import { InvalidArchiveError } from './errors.ts';
import { archivePath, readTar, type TarEntry } from './tar-reader.ts';

export interface LoadedImage {
  /** Full normalized tag references (`docker.io/library/alpine:3.20`). */
  refs: string[];
  /** What the references will name: the manifest (or index) as the archive holds it, or one built for it. */
  target: Descriptor;
  /** The config digest. */
  imageId: string;
}

type StagedFile =
  | { kind: 'blob'; digest: string }
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'spool'; file: string; digest: string; size: number };

const BLOB_ENTRY = /^blobs\/([a-z0-9]+)\/([0-9a-f]+)$/;
/** Small JSON files kept in memory, all together; past this, they are spooled to disk like layers. */
const MEMORY_BUDGET = 16 * 1024 * 1024;
const MAX_LINK_HOPS = 32;
const LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';
/** zlib's default 16 KiB output chunks made the diff_id check of a gzip layer 4 times slower (13 s for 400 MB). */
const GUNZIP_CHUNK = 1024 * 1024;

/** Reads the archive into the store under `lease`; returns the images it holds, not yet tagged. */
export async function stageArchive(
  content: ContentStore,
  source: AsyncIterable<Uint8Array>,
  lease: Lease,
  signal: AbortSignal,
): Promise<LoadedImage[]> {
  const staging = new Staging(content, lease, signal);
  try {
    for await (const entry of readTar(source)) {
      signal.throwIfAborted();
      await staging.add(entry);
    }
    return await staging.images();
  } finally {
    await staging.removeSpools();
  }
}

class Staging {
  readonly #content: ContentStore;
  readonly #lease: Lease;
  readonly #signal: AbortSignal;
  readonly #files = new Map<string, StagedFile>();
  readonly #links = new Map<string, string>();
  readonly #spools: string[] = [];
  #inMemory = 0;

  constructor(content: ContentStore, lease: Lease, signal: AbortSignal) {
    this.#content = content;
    this.#lease = lease;
    this.#signal = signal;
  }

  async add(entry: TarEntry): Promise<void> {
    if (entry.type === 'directory') return;
    if (entry.linkTarget !== undefined) {
      this.#links.set(entry.path, entry.linkTarget);
      return;
    }
    const blob = BLOB_ENTRY.exec(entry.path);
    if (blob) {
      const digest = blobDigest(`${blob[1]}:${blob[2]}`, entry.path);
      await this.#ingest(digest, entry.size, entry.body, entry.path);
      this.#files.set(entry.path, { kind: 'blob', digest });
    } else if (
      isMetadata(entry.path) &&
      entry.size <= SMALL_BLOB_LIMIT &&
      this.#inMemory + entry.size <= MEMORY_BUDGET
    ) {
      this.#inMemory += entry.size;
      this.#files.set(entry.path, { kind: 'bytes', bytes: await collect(entry.body) });
    } else {
      this.#files.set(entry.path, await this.#spool(entry));
    }
  }

  async images(): Promise<LoadedImage[]> {
    const manifest = this.#files.get('manifest.json');
    const index = this.#files.get('index.json');
    const indexEntries = index ? parseOciIndex(await this.#bytes(index, 'index.json')) : undefined;
    let images: LoadedImage[];
    if (manifest) {
      const entries = parseDockerManifest(await this.#bytes(manifest, 'manifest.json'));
      const byConfig = indexEntries ? await this.#manifestsByConfig(indexEntries) : new Map();
      images = [];
      for (const [i, entry] of entries.entries()) images.push(await this.#dockerImage(entry, i, byConfig));
    } else if (indexEntries) {
      images = [];
      for (const [i, entry] of indexEntries.entries()) images.push(await this.#ociImage(entry, i));
    } else {
      throw new InvalidArchiveError('archive', 'neither manifest.json nor index.json: not an image archive');
    }
    if (images.length === 0) throw new InvalidArchiveError('archive', 'holds no image');
    return images;
  }

  async removeSpools(): Promise<void> {
    for (const file of this.#spools.splice(0)) await unlink(file).catch(() => {});
  }

  /** One image of manifest.json: its config, its layers checked against the config's diff_ids, and its manifest. */
  async #dockerImage(
    entry: DockerManifestEntry,
    i: number,
    byConfig: Map<string, Descriptor>,
  ): Promise<LoadedImage> {
    const where = `manifest.json[${i}]`;
    const config = await this.#store(entry.config, `${where}.Config`);
    const diffIds = diffIdsOf(await this.#content.readJson(config.digest), entry.config);
    if (diffIds.length !== entry.layers.length) {
      throw new InvalidArchiveError(
        `${where}.Layers`,
        `${entry.layers.length} layers, but the config lists ${diffIds.length} diff_ids`,
      );
    }
    const layers: Descriptor[] = [];
    for (const [j, path] of entry.layers.entries()) {
      const layer = await this.#store(path, `${where}.Layers[${j}]`);
      const gzip = await this.#checkDiffId(layer.digest, diffIds[j] as string, path);
      layers.push({ mediaType: gzip ? MEDIA_TYPES.dockerLayerGzip : LAYER_TAR, ...layer });
    }
    const refs = entry.repoTags.map((tag, j) => canonicalName(tag, `${where}.RepoTags[${j}]`));
    if (refs.length === 0)
      throw new InvalidArchiveError(where, 'the image has no RepoTags: Dockhand keeps only named images');
    const target =
      byConfig.get(config.digest) ??
      (await this.#putJson(MEDIA_TYPES.dockerManifest, {
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.dockerManifest,
        config: { mediaType: MEDIA_TYPES.dockerConfig, ...config },
        layers,
      }));
    return { refs, target, imageId: config.digest };
  }

  /** One image of index.json: a manifest or an index whose blobs are all in the archive (or already stored). */
  async #ociImage(entry: IndexEntry, i: number): Promise<LoadedImage> {
    const where = `index.json manifests[${i}]`;
    if (entry.name === undefined) {
      throw new InvalidArchiveError(where, 'names no image (no io.containerd.image.name, no full ref.name)');
    }
    const refs = [canonicalName(entry.name, `${where} name`)];
    const imageId = await this.#checkTree(entry.descriptor, where);
    return { refs, target: entry.descriptor, imageId };
  }

  /** The image manifests index.json reaches (through indexes), by config digest: kept as the images' identity. */
  async #manifestsByConfig(entries: IndexEntry[]): Promise<Map<string, Descriptor>> {
    const out = new Map<string, Descriptor>();
    const pending = entries.map((e) => e.descriptor);
    for (let d = pending.shift(); d; d = pending.shift()) {
      if (!(await this.#content.has(d.digest))) continue;
      const parsed = parseContent(await this.#content.readJson(d.digest), d.mediaType, d.digest);
      if (parsed.kind === 'index') pending.push(...parsed.manifests);
      else if (parsed.kind === 'manifest' && !out.has(parsed.config.digest)) {
        await this.#checkTree(d, `index.json ${d.digest}`);
        out.set(parsed.config.digest, { mediaType: d.mediaType, digest: d.digest, size: d.size });
      }
    }
    return out;
  }

  /** Every blob under `d` is stored with the size its descriptor gives; returns the (first) config digest. */
  async #checkTree(d: Descriptor, where: string): Promise<string> {
    await this.#checkSize(d, where);
    const parsed = parseContent(await this.#content.readJson(d.digest), d.mediaType, d.digest);
    if (parsed.kind === 'manifest') {
      await this.#checkSize(parsed.config, `${where} config`);
      for (const [j, layer] of parsed.layers.entries()) await this.#checkSize(layer, `${where} layers[${j}]`);
      return parsed.config.digest;
    }
    if (parsed.kind === 'index') {
      let first: string | undefined;
      for (const child of parsed.manifests) {
        if (!(await this.#content.has(child.digest))) continue;
        first ??= await this.#checkTree(child, `${where} → ${child.digest}`);
      }
      if (first) return first;
      throw new InvalidArchiveError(where, 'an index none of whose manifests is in the archive');
    }
    throw new InvalidArchiveError(where, `${d.mediaType} is neither an image manifest nor an index`);
  }

  async #checkSize(d: Descriptor, where: string): Promise<void> {
    this.#lease.add(d.digest);
    if (!(await this.#content.has(d.digest))) {
      throw new InvalidArchiveError(where, `${d.digest} is not in the archive`);
    }
    const size = await this.#content.size(d.digest);
    if (size !== d.size) {
      throw new InvalidArchiveError(where, `the descriptor says ${d.size} bytes, ${d.digest} has ${size}`);
    }
  }

  /**
   * A layer's uncompressed bytes must hash to the config's diff_id (gzip layers are decompressed on the way). Returns
   * whether the layer is gzip-compressed.
   */
  async #checkDiffId(digest: string, diffId: string, path: string): Promise<boolean> {
    const head = await this.#content.openRead(digest);
    const first: Buffer | undefined = (await head[Symbol.asyncIterator]().next()).value;
    head.destroy();
    const gzip = first !== undefined && first[0] === 0x1f && first[1] === 0x8b;
    let actual = digest;
    if (gzip) {
      const { algorithm } = parseDigest(diffId, 'diff_id');
      const hash = newHash(algorithm);
      await pipeline(
        await this.#content.openRead(digest),
        createGunzip({ chunkSize: GUNZIP_CHUNK }),
        async (chunks: AsyncIterable<Buffer>) => {
          for await (const chunk of chunks) hash.update(chunk);
        },
      ).catch((error: Error) => {
        throw new InvalidArchiveError(path, `not a valid gzip layer (${error.message})`);
      });
      actual = `${algorithm}:${hash.digest('hex')}`;
    }
    if (actual !== diffId) {
      throw new InvalidArchiveError(
        path,
        `the layer's content hashes to ${actual}, the config's diff_id is ${diffId}`,
      );
    }
    return gzip;
  }

  /** The archive file at `path` (following links) as a committed blob: digest and size. */
  async #store(path: string, where: string): Promise<{ digest: string; size: number }> {
    const file = this.#resolve(path, where);
    let digest: string;
    if (file.kind === 'bytes') {
      digest = digestOf(file.bytes);
      this.#lease.add(digest);
      await this.#content.putBytes(digest, file.bytes);
    } else if (file.kind === 'spool') {
      digest = file.digest;
      await this.#ingest(digest, file.size, createReadStream(file.file), path);
    } else {
      digest = file.digest;
    }
    return { digest, size: await this.#content.size(digest) };
  }

  #resolve(path: string, where: string): StagedFile {
    let name = archivePath(path, where);
    for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
      const file = this.#files.get(name);
      if (file) return file;
      const next = this.#links.get(name);
      if (next === undefined) throw new InvalidArchiveError(where, `${path} is not in the archive`);
      name = next;
    }
    throw new InvalidArchiveError(where, `${path}: more than ${MAX_LINK_HOPS} links in a row`);
  }

  async #bytes(file: StagedFile, name: string): Promise<Buffer> {
    if (file.kind === 'bytes') return file.bytes;
    if (file.kind === 'spool' && file.size <= SMALL_BLOB_LIMIT) return readFile(file.file);
    if (file.kind === 'blob' && (await this.#content.size(file.digest)) <= SMALL_BLOB_LIMIT) {
      return this.#content.readBytes(file.digest);
    }
    throw new InvalidArchiveError(name, `larger than ${SMALL_BLOB_LIMIT} bytes`);
  }

  async #putJson(mediaType: string, value: object): Promise<Descriptor> {
    const bytes = Buffer.from(JSON.stringify(value));
    const digest = digestOf(bytes);
    this.#lease.add(digest);
    await this.#content.putBytes(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** Through the verified ingest: the bytes must hash to `digest`, and a refused blob leaves no partial behind. */
  async #ingest(digest: string, size: number, body: AsyncIterable<Uint8Array>, path: string): Promise<void> {
    this.#lease.add(digest);
    const ingest = await this.#content.ingest({ digest, size }, { signal: this.#signal });
    if (!ingest) return;
    try {
      if (ingest.offset > 0) await ingest.restart();
      await ingest.write(body instanceof Readable ? body : Readable.from(body), { signal: this.#signal });
      await ingest.commit();
    } catch (error) {
      await ingest.discard();
      if (error instanceof DigestMismatchError) {
        throw new InvalidArchiveError(path, `its content hashes to ${error.actual}, not ${digest}`);
      }
      if (error instanceof SizeMismatchError) {
        throw new InvalidArchiveError(path, `more than the ${size} bytes expected`);
      }
      throw error;
    }
  }

  /** A file whose digest its name does not give: hashed while written to a spool file beside the ingests. */
  async #spool(entry: TarEntry): Promise<StagedFile> {
    const file = join(this.#content.layout.ingest, `load-${randomUUID()}.spool`);
    this.#spools.push(file);
    const hash = newHash('sha256');
    const hashed = (async function* () {
      for await (const chunk of entry.body) {
        hash.update(chunk);
        yield chunk;
      }
    })();
    await pipeline(Readable.from(hashed), createWriteStream(file), { signal: this.#signal });
    return { kind: 'spool', file, digest: `sha256:${hash.digest('hex')}`, size: entry.size };
  }
}

/** Manifests, indexes, configs and docker's bookkeeping files: small JSON read whole. */
function isMetadata(path: string): boolean {
  return (
    path === 'manifest.json' ||
    path === 'index.json' ||
    path === 'oci-layout' ||
    path === 'repositories' ||
    path.endsWith('.json') ||
    path.endsWith('/json') ||
    path.endsWith('/VERSION')
  );
}

function blobDigest(value: string, path: string): string {
  try {
    return parseDigest(value, path).value;
  } catch (error) {
    throw new InvalidArchiveError(path, (error as Error).message);
  }
}

function diffIdsOf(config: unknown, path: string): string[] {
  const diffIds = isObject(config) && isObject(config.rootfs) ? config.rootfs.diff_ids : undefined;
  if (!Array.isArray(diffIds)) throw new InvalidArchiveError(path, 'the config has no rootfs.diff_ids');
  return diffIds.map((d, i) => blobDigest(d, `${path} rootfs.diff_ids[${i}]`));
}

function canonicalName(name: string, where: string): string {
  try {
    const ref = parseReference(name);
    if (ref.digest !== undefined) throw new Error('a digest reference is not a tag');
    return ref.canonical;
  } catch (error) {
    throw new InvalidArchiveError(where, `"${name}" is not a valid image name (${(error as Error).message})`);
  }
}

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
