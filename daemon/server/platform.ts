// Platform parameters: `os[/arch[/variant]]` on POST /images/create (containerd's platforms.Parse, normalised the
// same way) and a JSON OCI platform on push.
import type { OCIPlatform } from '../../api-spec/types.ts';
import { InvalidParameterError } from '../errors.ts';
import { HOST_ARCH } from './build-info.ts';

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

/** Parses `os[/arch[/variant]]`; empty means "the default platform" (undefined). Throws a 400 naming the value. */
export function parsePlatformParam(value: string | undefined): OCIPlatform | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const parts = value.trim().toLowerCase().split('/');
  const bad = (reason: string) => new InvalidParameterError(`invalid platform "${value}": ${reason}`);
  if (parts.length > 3 || parts.some((p) => !PART.test(p))) throw bad('must be os[/arch[/variant]]');
  const [first, arch, variant] = parts as [string, string | undefined, string | undefined];
  if (arch === undefined) {
    if (KNOWN_OS.has(normalizeOs(first))) return withArch(normalizeOs(first), HOST_ARCH, undefined);
    if (KNOWN_ARCH.has(first)) return withArch('linux', first, undefined);
    throw bad('unknown operating system or architecture');
  }
  return withArch(normalizeOs(first), arch, variant);
}

function normalizeOs(os: string): string {
  return os === 'macos' ? 'darwin' : os;
}

function withArch(os: string, rawArch: string, rawVariant: string | undefined): OCIPlatform {
  const [architecture, variant] = normalizeArch(rawArch, rawVariant ?? '');
  return variant === '' ? { os, architecture } : { os, architecture, variant };
}

/** containerd's normalizeArch: the aliases and default variants clients and registries agree on. */
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

/** Parses push's JSON OCI platform (`{"os":"linux","architecture":"arm64"}`); empty means none. */
export function parsePlatformJson(value: string | undefined, field: string): OCIPlatform | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidParameterError(`invalid ${field}: not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidParameterError(`invalid ${field}: expected a JSON object`);
  }
  const p = parsed as Record<string, unknown>;
  if (typeof p['os'] !== 'string' || typeof p['architecture'] !== 'string') {
    throw new InvalidParameterError(`invalid ${field}: "os" and "architecture" must be strings`);
  }
  const out: OCIPlatform = { os: p['os'], architecture: p['architecture'] };
  if (typeof p['variant'] === 'string' && p['variant'] !== '') out.variant = p['variant'];
  if (typeof p['os.version'] === 'string' && p['os.version'] !== '') out['os.version'] = p['os.version'];
  if (Array.isArray(p['os.features']) && p['os.features'].every((f) => typeof f === 'string')) {
    out['os.features'] = p['os.features'];
  }
  return out;
}
