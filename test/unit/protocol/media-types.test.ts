import { describe, expect, it } from 'vitest';
import {
  baseMediaType,
  MANIFEST_ACCEPT,
  MANIFEST_ACCEPT_HEADER,
  MEDIA_TYPES,
  manifestKind,
  schema1RefusedMessage,
} from '../../../protocol/media-types.ts';

describe('media types', () => {
  it('the manifest Accept list names OCI and Docker, index types first, never schema 1', () => {
    expect(MANIFEST_ACCEPT).toEqual([
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ]);
    expect(MANIFEST_ACCEPT_HEADER).not.toContain('distribution.manifest.v1');
  });

  it.each([
    ['application/vnd.oci.image.index.v1+json', 'index'],
    ['application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8', 'index'],
    ['Application/VND.OCI.image.manifest.v1+json', 'manifest'],
    [MEDIA_TYPES.dockerManifest, 'manifest'],
    [MEDIA_TYPES.dockerSchema1Signed, 'schema1'],
    [MEDIA_TYPES.dockerSchema1, 'schema1'],
    ['application/json', undefined],
    [undefined, undefined],
  ])('%s is %s', (contentType, kind) => {
    expect(manifestKind(contentType)).toBe(kind);
  });

  it('baseMediaType drops parameters', () => {
    expect(baseMediaType(' application/json ; charset=utf-8')).toBe('application/json');
  });

  it('schema 1 is refused with dockerd’s message naming the image', () => {
    expect(schema1RefusedMessage('docker.io/library/old:1')).toMatch(
      /^\[DEPRECATION NOTICE\] .*schema 1 support has been removed\. Suggest the author of docker\.io\/library\/old:1 /,
    );
  });
});
