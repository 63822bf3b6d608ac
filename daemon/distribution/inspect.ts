// GET /distribution/{name}/json: the registry's descriptor for a reference and the platforms it offers.

import type { DistributionInspect, OCIPlatform } from '../../api-spec/types.ts';
import { parseManifest, type Reference, readLimited, refuseAnnouncedSize } from '../../protocol/index.ts';
import type { AuthMode } from './auth/auth-mode.ts';
import type { RegistryAccess } from './registry-access.ts';

const MAX_CONFIG_BYTES = 1024 * 1024;

export async function inspectDistribution(
  access: RegistryAccess,
  ref: Reference,
  mode: AuthMode,
  signal: AbortSignal,
): Promise<DistributionInspect> {
  const repo = await access.repository(ref.domain, ref.path, mode, { signal });
  const fetched = await repo.getManifest(ref.digest ?? ref.tag ?? 'latest');
  const parsed = parseManifest(fetched.bytes, fetched.mediaType, `manifest ${fetched.digest}`);
  const descriptor = { mediaType: parsed.mediaType, digest: fetched.digest, size: fetched.size };
  if (parsed.kind === 'index') {
    const platforms = parsed.manifests.flatMap((m) => (m.platform ? [m.platform] : []));
    return { Descriptor: descriptor, Platforms: platforms };
  }
  const what = `config ${parsed.config.digest}`;
  refuseAnnouncedSize(what, parsed.config.size, MAX_CONFIG_BYTES);
  const config = await repo.openBlob(parsed.config.digest, 0, signal);
  return {
    Descriptor: descriptor,
    Platforms: [platformOf(await readLimited(config.body, MAX_CONFIG_BYTES, what))],
  };
}

function platformOf(configBytes: Buffer): OCIPlatform {
  const config = JSON.parse(configBytes.toString('utf8')) as {
    os?: unknown;
    architecture?: unknown;
    variant?: unknown;
  };
  return {
    os: typeof config.os === 'string' ? config.os : '',
    architecture: typeof config.architecture === 'string' ? config.architecture : '',
    ...(typeof config.variant === 'string' ? { variant: config.variant } : {}),
  };
}
