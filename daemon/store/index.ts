// The content store of a data root: an OCI image layout with verified, resumable ingests, single-flight downloads,
// references in index.json, leases and garbage collection. `Store.open(dataRoot)` is the entry point.
export { ContentStore, SMALL_BLOB_LIMIT } from './content-store.ts';
export { type DigestAlgorithm, digestOf } from './digest.ts';
export * from './errors.ts';
export type { BlobBody, FetchBlobOptions, FetchResult, OpenBlob } from './fetch-blob.ts';
export { collectGarbage, type GcOptions, type GcResult } from './gc.ts';
export { ImageIndex, type ImageRecord, type RefRecord } from './image-index.ts';
export { deriveImageMeta, type ImageMeta } from './image-meta.ts';
export type { ByteSource, ExpectedBlob, Ingest, IngestWriteOptions } from './ingest.ts';
export type { Lease, LeaseManager } from './lease.ts';
export { type DataRootLock, lockDataRoot } from './lock.ts';
export { type Descriptor, MEDIA_TYPES, type Platform, REF_NAME_ANNOTATION } from './oci.ts';
export { type OpenRange, type RangeBody, RangeIgnoredError, ShortRangeError } from './ranged-download.ts';
export { parseStoredRef, type StoredRef } from './refs.ts';
export { Store } from './store.ts';
