// The standard small image set most tests pull. What seedImages pushes into a registry:
//   small:1        OCI image manifest, linux/amd64, 2 layers (512 KiB + 1 MiB files, random, gzip level 0)
//   small-v2s2:1   the same image converted by skopeo to Docker schema2 (so a different manifest digest)
//   multi:1        OCI index: linux/amd64, linux/arm64, linux/arm/v7, each 2 layers (256 KiB + 256 KiB files),
//                  every platform with its own layers and config
//   public/small:1 the same image as small:1, under `public/` (anonymous pull is allowed there by the token server)
import { type BuiltImage, buildImage, type ImageSpec } from './fixtures.ts';
import { type Creds, pushImage } from './skopeo.ts';

export const SMALL_SPEC: ImageSpec = { layers: [512 * 1024, 1024 * 1024], seed: 1 };
export const MULTI_SPEC: ImageSpec = {
  layers: [256 * 1024, 256 * 1024],
  seed: 2,
  platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'],
};

export interface SeededImage {
  /** host/repo:tag */
  ref: string;
  repository: string;
  tag: string;
  /** Manifest (or index) digest in the registry. */
  digest: string;
  /** The layout it came from, with per-platform layer digests and diff_ids. */
  build: BuiltImage;
}

export type SeedName = 'small' | 'small-v2s2' | 'multi' | 'public/small';
export type SeededImages = Record<SeedName, SeededImage>;

/** Pushes the standard set into `registryHost` (host:port), with credentials when the registry needs them. */
export async function seedImages(registryHost: string, creds?: Creds): Promise<SeededImages> {
  const [small, multi] = await Promise.all([
    buildImage(SMALL_SPEC, { tag: '1' }),
    buildImage(MULTI_SPEC, { tag: '1' }),
  ]);
  const push = async (repository: string, build: BuiltImage, format?: 'v2s2'): Promise<SeededImage> => {
    const ref = `${registryHost}/${repository}:1`;
    const { digest } = await pushImage({
      layoutDir: build.layoutDir,
      tag: build.tag,
      dest: ref,
      ...(creds ? { creds } : {}),
      ...(format ? { format } : {}),
    });
    return { ref, repository, tag: '1', digest, build };
  };
  // Two at a time: the machine has two cores.
  const [s, v2] = await Promise.all([push('small', small), push('small-v2s2', small, 'v2s2')]);
  const [m, p] = await Promise.all([push('multi', multi), push('public/small', small)]);
  return { small: s, 'small-v2s2': v2, multi: m, 'public/small': p };
}
