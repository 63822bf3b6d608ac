// Many distinct small images, cheaply: one image is pushed with skopeo, then each variant is only a new config
// (a label differs, so the image ID differs) and a manifest, uploaded with the distribution API.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuiltImage } from '../test/rig/fixtures.ts';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

interface Manifest {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

async function readBlob(layoutDir: string, digest: string): Promise<Buffer> {
  return readFile(join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
}

async function expectStatus(response: Response, status: number, what: string): Promise<void> {
  if (response.status !== status) {
    const text = (await response.text()).slice(0, 300);
    throw new Error(`${what}: HTTP ${response.status} (expected ${status}): ${text}`);
  }
}

async function uploadBlob(registryUrl: string, repo: string, bytes: Buffer, digest: string): Promise<void> {
  const started = await fetch(`${registryUrl}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await expectStatus(started, 202, `start upload to ${repo}`);
  const location = started.headers.get('location');
  if (!location) throw new Error(`start upload to ${repo}: no Location header`);
  const url = new URL(location, registryUrl);
  url.searchParams.set('digest', digest);
  const put = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  await expectStatus(put, 201, `finish upload of ${digest}`);
}

/**
 * Tags `tags` in `repo`, each a distinct image sharing the layers of `base` (already pushed to the same repo).
 */
export async function seedVariants(
  registryUrl: string,
  repo: string,
  base: BuiltImage,
  tags: readonly string[],
): Promise<void> {
  const platform = base.images[0];
  if (!platform) throw new Error('seedVariants: the base image has no platform image');
  const manifest = JSON.parse(
    (await readBlob(base.layoutDir, platform.manifestDigest)).toString('utf8'),
  ) as Manifest;
  const config = JSON.parse((await readBlob(base.layoutDir, platform.configDigest)).toString('utf8')) as {
    config: { Labels?: Record<string, string> };
  };
  for (const tag of tags) {
    const variantConfig = Buffer.from(
      JSON.stringify({
        ...config,
        config: { ...config.config, Labels: { ...config.config.Labels, 'org.dockhand.bench.variant': tag } },
      }),
    );
    const configDigest = `sha256:${createHash('sha256').update(variantConfig).digest('hex')}`;
    await uploadBlob(registryUrl, repo, variantConfig, configDigest);
    const variant = JSON.stringify({
      ...manifest,
      config: { ...manifest.config, digest: configDigest, size: variantConfig.length },
    });
    const put = await fetch(`${registryUrl}/v2/${repo}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'content-type': manifest.mediaType },
      body: variant,
    });
    await expectStatus(put, 201, `put manifest ${repo}:${tag}`);
  }
}
