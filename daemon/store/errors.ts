// Every way the store fails, each a class so callers branch on type, each message naming what and why.

export abstract class StoreError extends Error {}

/** Untrusted input that is not what the store accepts; `field` names the input. */
export class InvalidArgumentError extends StoreError {
  override readonly name: string = 'InvalidArgumentError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`invalid ${field}: ${reason}`);
  }
}

export class InvalidDigestArgumentError extends InvalidArgumentError {
  override readonly name = 'InvalidDigestArgumentError';
}

export class DataRootLockedError extends StoreError {
  override readonly name = 'DataRootLockedError';
  constructor(
    readonly root: string,
    readonly pid: number,
  ) {
    super(
      `data root ${root} is in use by dockhand pid ${pid} (lock file ${root}/dockhand.lock); ` +
        'stop that daemon or choose another --data-root',
    );
  }
}

/** The bytes hash to something else than the descriptor said. Nothing was committed; the partial was deleted. */
export class DigestMismatchError extends StoreError {
  override readonly name = 'DigestMismatchError';
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`digest mismatch: expected ${expected}, content hashes to ${actual}`);
  }
}

/** More bytes arrived than the descriptor's size. Nothing was committed; the partial was deleted. */
export class SizeMismatchError extends StoreError {
  override readonly name = 'SizeMismatchError';
  constructor(
    readonly digest: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`size mismatch for ${digest}: expected ${expected} bytes, got at least ${actual}`);
  }
}

/** The source ended before the descriptor's size. The partial is kept so a later attempt resumes. */
export class IncompleteBlobError extends StoreError {
  override readonly name = 'IncompleteBlobError';
  constructor(
    readonly digest: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`incomplete blob ${digest}: have ${actual} of ${expected} bytes`);
  }
}

export class BlobNotFoundError extends StoreError {
  override readonly name = 'BlobNotFoundError';
  constructor(readonly digest: string) {
    super(`blob ${digest} is not in the content store`);
  }
}

export class BlobTooLargeError extends StoreError {
  override readonly name = 'BlobTooLargeError';
  constructor(
    readonly digest: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`blob ${digest} is ${size} bytes, more than the ${limit} bytes allowed here`);
  }
}

/** A committed blob whose bytes no longer match its name, or a manifest that is not the JSON it claims to be. */
export class CorruptContentError extends StoreError {
  override readonly name = 'CorruptContentError';
  constructor(
    readonly digest: string,
    readonly reason: string,
  ) {
    super(`blob ${digest}: ${reason}`);
  }
}

/** A file of the data root (index.json, oci-layout) that the store cannot read safely. */
export class CorruptLayoutError extends StoreError {
  override readonly name = 'CorruptLayoutError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export class RefNotFoundError extends StoreError {
  override readonly name = 'RefNotFoundError';
  constructor(readonly ref: string) {
    super(`no image is tagged ${ref}`);
  }
}

export class AmbiguousImageIdError extends StoreError {
  override readonly name = 'AmbiguousImageIdError';
  constructor(
    readonly prefix: string,
    readonly matches: string[],
  ) {
    super(`image ID prefix ${prefix} is ambiguous: it matches ${matches.length} images`);
  }
}

/** How Go (and so dockerd) words the errors a full or failing disk gives. */
const DISK_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
};

/**
 * The disk refused bytes of a blob (full, over quota, read-only, failing): worded as dockerd words it, `write <path>:
 * no space left on device`. Nothing was committed; the partial keeps what reached the disk, for a resume.
 */
export class DiskWriteError extends StoreError {
  override readonly name = 'DiskWriteError';
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    cause: unknown,
  ) {
    const text = (code && DISK_ERRORS[code]) ?? (cause instanceof Error ? cause.message : String(cause));
    super(`write ${path}: ${text}`, { cause });
  }

  static from(cause: unknown, path: string): DiskWriteError {
    return new DiskWriteError(path, (cause as NodeJS.ErrnoException | undefined)?.code, cause);
  }
}
