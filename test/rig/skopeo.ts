// skopeo as the reference client: pushes rig layouts into registries and inspects what is there. Always run with
// --insecure-policy and an empty auth file, so the host's containers policy and saved logins never leak in.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MEDIA_TYPES, REF_NAME_ANNOTATION } from './fixtures.ts';

const execFileAsync = promisify(execFile);

export interface Creds {
  username: string;
  password: string;
}

export interface PushOptions {
  layoutDir: string;
  /** Ref name inside the layout. */
  tag: string;
  /** 'host:port/repo:tag' */
  dest: string;
  creds?: Creds;
  /** 'oci' (default: keep the layout's OCI types) or 'v2s2' (Docker schema2 / manifest list). */
  format?: 'oci' | 'v2s2';
  /** Copy every platform of an index. Default: true when the tag points to an index. */
  all?: boolean;
}

export interface PushResult {
  /** Digest of the manifest (or index) as stored in the registry, after any format conversion. */
  digest: string;
}

async function runSkopeo(args: string[], timeoutMs = 120_000): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), 'dockhand-rig-skopeo-'));
  const authFile = join(scratch, 'auth.json');
  await writeFile(authFile, '{"auths":{}}');
  try {
    const { stdout } = await execFileAsync('skopeo', ['--insecure-policy', ...args], {
      env: { ...process.env, REGISTRY_AUTH_FILE: authFile },
      maxBuffer: 64 << 20,
      timeout: timeoutMs,
    });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`skopeo ${redactArgs(args).join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function redactArgs(args: string[]): string[] {
  return args.map((arg, i) => (/^--(src-|dest-)?creds$/.test(args[i - 1] ?? '') ? '<redacted>' : arg));
}

const credsArg = (flag: string, creds: Creds | undefined) =>
  creds ? [flag, `${creds.username}:${creds.password}`] : [];

async function pointsToIndex(layoutDir: string, tag: string): Promise<boolean> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as {
    manifests: { mediaType: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((m) => m.annotations?.[REF_NAME_ANNOTATION] === tag);
  if (!entry) throw new Error(`pushImage: no ref "${tag}" in ${layoutDir}/index.json`);
  return entry.mediaType === MEDIA_TYPES.ociIndex;
}

/** `skopeo copy oci:DIR:TAG docker://DEST`, returning the digest the registry stored. */
export async function pushImage(options: PushOptions): Promise<PushResult> {
  const all = options.all ?? (await pointsToIndex(options.layoutDir, options.tag));
  const scratch = await mkdtemp(join(tmpdir(), 'dockhand-rig-push-'));
  const digestFile = join(scratch, 'digest');
  try {
    await runSkopeo([
      'copy',
      '--dest-tls-verify=false',
      ...credsArg('--dest-creds', options.creds),
      ...(options.format === 'v2s2' ? ['--format', 'v2s2'] : []),
      ...(all ? ['--all'] : []),
      '--digestfile',
      digestFile,
      `oci:${options.layoutDir}:${options.tag}`,
      `docker://${options.dest}`,
    ]);
    return { digest: (await readFile(digestFile, 'utf8')).trim() };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface InspectOptions {
  creds?: Creds;
  /** 'raw' gives the manifest as stored, 'config' the image config; default skopeo's summary. */
  what?: 'summary' | 'raw' | 'config';
  /** Pick a platform of an index, e.g. 'arm64'. */
  overrideArch?: string;
  overrideVariant?: string;
}

/** `skopeo inspect docker://REF`, parsed. */
export async function inspectImage(
  ref: string,
  options: InspectOptions = {},
): Promise<Record<string, unknown>> {
  const stdout = await runSkopeo([
    'inspect',
    '--tls-verify=false',
    ...credsArg('--creds', options.creds),
    ...(options.what === 'raw' ? ['--raw'] : options.what === 'config' ? ['--config'] : []),
    ...(options.overrideArch ? ['--override-arch', options.overrideArch] : []),
    ...(options.overrideVariant ? ['--override-variant', options.overrideVariant] : []),
    `docker://${ref}`,
  ]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** `skopeo inspect SOURCE` of any transport (`docker-archive:FILE`, `oci-archive:FILE`, …), parsed. */
export async function inspectSource(
  source: string,
  what: 'summary' | 'config' = 'summary',
): Promise<Record<string, unknown>> {
  const stdout = await runSkopeo(['inspect', ...(what === 'config' ? ['--config'] : []), source]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

export interface CopyOptions {
  srcCreds?: Creds;
  destCreds?: Creds;
  all?: boolean;
  format?: 'oci' | 'v2s2';
}

/** Any `skopeo copy SRC DEST` (transport-prefixed), TLS verification off on both sides. */
export async function copyImage(src: string, dest: string, options: CopyOptions = {}): Promise<void> {
  await runSkopeo([
    'copy',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    ...credsArg('--src-creds', options.srcCreds),
    ...credsArg('--dest-creds', options.destCreds),
    ...(options.format === 'v2s2' ? ['--format', 'v2s2'] : []),
    ...(options.all ? ['--all'] : []),
    src,
    dest,
  ]);
}
