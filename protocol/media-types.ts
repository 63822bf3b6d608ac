// Media types of images on the wire. A pull asks for manifests with MANIFEST_ACCEPT: registry 2.8 answers
// an OCI manifest only when the Accept header names it, and without the index types a multi-platform image
// comes back as whatever single manifest the registry picks (or schema 1).
export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export type MediaType = (typeof MEDIA_TYPES)[keyof typeof MEDIA_TYPES];

/** What a pull accepts for a manifest, most preferred first. Schema 1 is deliberately absent. */
export const MANIFEST_ACCEPT: readonly string[] = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.dockerManifest,
];

export const MANIFEST_ACCEPT_HEADER = MANIFEST_ACCEPT.join(', ');

export const INDEX_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
export const IMAGE_MANIFEST_MEDIA_TYPES: readonly string[] = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
];
export const SCHEMA1_MEDIA_TYPES: readonly string[] = [
  MEDIA_TYPES.dockerSchema1,
  MEDIA_TYPES.dockerSchema1Signed,
];
export const CONFIG_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig];
export const LAYER_MEDIA_TYPES: readonly string[] = [
  MEDIA_TYPES.ociLayer,
  MEDIA_TYPES.ociLayerGzip,
  MEDIA_TYPES.ociLayerZstd,
  MEDIA_TYPES.ociLayerNondistributableGzip,
  MEDIA_TYPES.dockerLayerGzip,
  MEDIA_TYPES.dockerForeignLayerGzip,
];

/** The bare media type of a Content-Type value: parameters dropped, lower-cased. */
export function baseMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && INDEX_MEDIA_TYPES.includes(mediaType);
}

export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && IMAGE_MANIFEST_MEDIA_TYPES.includes(mediaType);
}

export type ManifestKind = 'index' | 'manifest' | 'schema1';

/** What a manifest response holds, judged by its Content-Type; undefined for anything else. */
export function manifestKind(contentType: string | undefined): ManifestKind | undefined {
  const type = baseMediaType(contentType);
  if (INDEX_MEDIA_TYPES.includes(type)) return 'index';
  if (IMAGE_MANIFEST_MEDIA_TYPES.includes(type)) return 'manifest';
  if (SCHEMA1_MEDIA_TYPES.includes(type)) return 'schema1';
  return undefined;
}

/** The message dockerd gives for a schema 1 image, which it no longer pulls. */
export function schema1RefusedMessage(reference: string): string {
  return (
    '[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been ' +
    `removed. Suggest the author of ${reference} to upgrade the image to the OCI Format or Docker Image manifest ` +
    'v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/'
  );
}
