// OCI platforms as containerd's platforms package reads them: `os[/arch[/variant]]` specifiers, the aliases and
// default variants clients and registries agree on (x86_64 → amd64, aarch64 → arm64 with v8 implied, arm → v7),
// and Node's process.arch spelled as Go's GOARCH. The one home of these rules for the daemon and the client.

import { InvalidPlatformError } from './errors.ts';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

const GOARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm: 'arm',
  arm64: 'arm64',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** Node's process.arch spelled as Go's GOARCH, which Engine API clients and OCI platforms use. */
export const HOST_ARCH: string = GOARCH[process.arch] ?? process.arch;

/** The platform this process runs on, as an image for it would declare it. */
export function hostPlatform(): Platform {
  return {
    os: process.platform === 'win32' ? 'windows' : process.platform,
    architecture: HOST_ARCH,
  };
}

/** What a pull selects when no platform is asked for: linux on this machine's architecture. */
export function defaultPlatform(): Platform {
  return normalizePlatform({ os: 'linux', architecture: HOST_ARCH });
}

const KNOWN_OS = new Set([
  'aix',
  'android',
  'darwin',
  'dragonfly',
  'freebsd',
  'illumos',
  'ios',
  'js',
  'linux',
  'netbsd',
  'openbsd',
  'plan9',
  'solaris',
  'wasip1',
  'windows',
]);
const KNOWN_ARCH = new Set([
  '386',
  'amd64',
  'arm',
  'arm64',
  'loong64',
  'mips',
  'mipsle',
  'mips64',
  'mips64le',
  'ppc64',
  'ppc64le',
  'riscv64',
  's390x',
  'wasm',
  'aarch64',
  'armhf',
  'armel',
  'x86_64',
  'x86-64',
  'i386',
]);
const PART = /^[a-z0-9_.-]+$/;

/**
 * Parses `os[/arch[/variant]]` (containerd's platforms.Parse): a lone OS takes this machine's architecture, a lone
 * architecture means linux. Throws InvalidPlatformError naming the value and the reason.
 */
export function parsePlatform(value: string): Platform {
  const parts = value.trim().toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !PART.test(p))) {
    throw new InvalidPlatformError(value, 'format', 'must be os[/arch[/variant]]');
  }
  const [first, arch, variant] = parts as [string, string | undefined, string | undefined];
  if (arch === undefined) {
    if (KNOWN_OS.has(normalizeOs(first))) return withArch(normalizeOs(first), HOST_ARCH, undefined);
    if (KNOWN_ARCH.has(first)) return withArch('linux', first, undefined);
    throw new InvalidPlatformError(value, 'unknown', 'unknown operating system or architecture');
  }
  return withArch(normalizeOs(first), arch, variant);
}

/** os, architecture and variant as containerd compares them (other fields dropped). */
export function normalizePlatform(p: Platform): Platform {
  return withArch(normalizeOs(p.os), p.architecture, p.variant);
}

/** Whether an index entry's platform serves a request for `wanted`. */
export function platformMatches(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  const c = normalizePlatform(candidate);
  const w = normalizePlatform(wanted);
  return c.os === w.os && c.architecture === w.architecture && (c.variant ?? '') === (w.variant ?? '');
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function normalizeOs(os: string): string {
  return os === 'macos' ? 'darwin' : os;
}

function withArch(os: string, rawArch: string, rawVariant: string | undefined): Platform {
  const [architecture, variant] = normalizeArch(rawArch, rawVariant ?? '');
  return variant === '' ? { os, architecture } : { os, architecture, variant };
}

/** containerd's normalizeArch. */
function normalizeArch(arch: string, variant: string): [string, string] {
  switch (arch) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', variant === 'v1' ? '' : variant];
    case 'aarch64':
    case 'arm64':
      if (['8', 'v8', 'v8.0'].includes(variant)) return ['arm64', ''];
      if (['9', '9.0', 'v9.0'].includes(variant)) return ['arm64', 'v9'];
      return ['arm64', variant];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (variant === '' || variant === '7') return ['arm', 'v7'];
      if (['5', '6', '8'].includes(variant)) return ['arm', `v${variant}`];
      return ['arm', variant];
    default:
      return [arch, variant];
  }
}
