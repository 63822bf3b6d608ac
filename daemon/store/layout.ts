// Where everything lives under a data root. The `oci/` folder is an OCI image layout that other tools can read.
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../protocol/atomic-file.ts';
import type { DigestAlgorithm } from './digest.ts';
import { CorruptLayoutError } from './errors.ts';

export const OCI_LAYOUT_VERSION = '1.0.0';
const RANGE_PART = '.part-';

export class DataRootLayout {
  readonly root: string;
  readonly lockFile: string;
  /** The OCI image layout: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`. */
  readonly oci: string;
  readonly ociLayoutFile: string;
  readonly indexFile: string;
  readonly blobs: string;
  /** Partial downloads, outside blobs/ so nothing unverified ever has a blob's name. */
  readonly ingest: string;
  /** Dockhand's own metadata, derivable from `oci/` (see image-index.ts). */
  readonly meta: string;
  readonly imagesFile: string;

  constructor(dataRoot: string) {
    this.root = resolve(dataRoot);
    this.lockFile = join(this.root, 'dockhand.lock');
    this.oci = join(this.root, 'oci');
    this.ociLayoutFile = join(this.oci, 'oci-layout');
    this.indexFile = join(this.oci, 'index.json');
    this.blobs = join(this.oci, 'blobs');
    this.ingest = join(this.oci, 'ingest');
    this.meta = join(this.root, 'meta');
    this.imagesFile = join(this.meta, 'images.json');
  }

  blobDir(algorithm: DigestAlgorithm): string {
    return join(this.blobs, algorithm);
  }

  blobPath(algorithm: DigestAlgorithm, hex: string): string {
    return join(this.blobs, algorithm, hex);
  }

  partialPath(hex: string): string {
    return join(this.ingest, `${hex}.partial`);
  }

  /**
   * Creates the data root for the owner alone (0700), and takes group and others' access away from an existing one:
   * it holds every image pulled with anyone's credentials, as dockerd's root does.
   */
  async createRoot(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await chmod(this.root, 0o700);
  }

  /** The bytes from `start` on of a blob fetched in ranges, until the partial catches up with them. */
  rangePartPath(hex: string, start: number): string {
    return join(this.ingest, `${hex}${RANGE_PART}${start}`);
  }

  /** The blob an ingest file belongs to (`<hex>.partial` or `<hex>.part-<start>`), undefined for other names. */
  static ingestFileHex(name: string): string | undefined {
    if (name.endsWith('.partial')) return name.slice(0, -'.partial'.length);
    const at = name.indexOf(RANGE_PART);
    return at > 0 && /^\d+$/.test(name.slice(at + RANGE_PART.length)) ? name.slice(0, at) : undefined;
  }

  /** Creates the folders and the `oci-layout` marker; refuses a layout of another version. */
  async ensure(): Promise<void> {
    await mkdir(this.blobDir('sha256'), { recursive: true });
    await mkdir(this.ingest, { recursive: true });
    await mkdir(this.meta, { recursive: true });
    let marker: string | undefined;
    try {
      marker = await readFile(this.ociLayoutFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (marker === undefined) {
      await writeFileAtomic(this.ociLayoutFile, JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION }));
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(marker);
    } catch {
      throw new CorruptLayoutError(this.ociLayoutFile, 'not JSON');
    }
    const version = (parsed as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
    if (version !== OCI_LAYOUT_VERSION) {
      throw new CorruptLayoutError(
        this.ociLayoutFile,
        `imageLayoutVersion ${String(version)} is not ${OCI_LAYOUT_VERSION}`,
      );
    }
  }
}
