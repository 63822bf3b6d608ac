// Why an image archive is refused. Every refusal names the entry (or the archive file) and the reason; the load
// stores nothing when one is raised.
import { DaemonError } from '../errors.ts';

/** A 400, as moby answers a malformed archive (InvalidParameter). */
export class InvalidArchiveError extends DaemonError {
  override readonly name: string = 'InvalidArchiveError';
  readonly statusCode = 400;
  constructor(
    /** The archive entry (or archive-level file such as manifest.json) at fault. */
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`invalid image archive: ${entry}: ${reason}`);
  }
}

/** The archive's bytes stop in the middle of an entry or a header. */
export class TruncatedArchiveError extends InvalidArchiveError {
  override readonly name = 'TruncatedArchiveError';
}

/** An entry whose name or link points outside the archive, or a kind of entry an image archive never holds. */
export class UnsafeEntryError extends InvalidArchiveError {
  override readonly name = 'UnsafeEntryError';
}
