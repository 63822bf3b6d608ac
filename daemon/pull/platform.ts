// Platform matching as containerd's platforms package does: "os[/arch[/variant]]", normalized (x86_64 → amd64,
// aarch64 → arm64, arm64's variant v8 implied, arm's v7 by default).

import type { OCIPlatform } from '../../api-spec/types.ts';
import { InvalidParameterError } from '../errors.ts';

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
};

export function parsePlatform(value: string): OCIPlatform {
  const parts = value.trim().toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new InvalidParameterError(`invalid platform "${value}": expected os[/arch[/variant]]`);
  }
  const [os, arch, variant] = parts as [string, string?, string?];
  return normalizePlatform({
    os,
    architecture: arch ?? defaultPlatform().architecture,
    ...(variant ? { variant } : {}),
  });
}

export function normalizePlatform(p: OCIPlatform): OCIPlatform {
  const architecture = ARCH_ALIASES[p.architecture] ?? p.architecture;
  let variant = p.variant;
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  if (architecture === 'arm' && !variant) variant = 'v7';
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  return { os: p.os, architecture, ...(variant ? { variant } : {}) };
}

export function defaultPlatform(): OCIPlatform {
  const arch = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' }[
    process.arch as string
  ];
  return normalizePlatform({ os: 'linux', architecture: arch ?? process.arch });
}

/** Whether an index entry's platform serves a request for `wanted`. */
export function platformMatches(candidate: OCIPlatform | undefined, wanted: OCIPlatform): boolean {
  if (!candidate) return false;
  const c = normalizePlatform(candidate);
  const w = normalizePlatform(wanted);
  return c.os === w.os && c.architecture === w.architecture && (c.variant ?? '') === (w.variant ?? '');
}

export function formatPlatform(p: OCIPlatform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}
