// The two tables of contents an image archive may carry, parsed at the edge into typed values: docker's
// `manifest.json` (every docker version, skopeo's docker-archive:) and the OCI layout's `index.json` (docker 25+,
// skopeo's oci-archive:). Errors name the file, the field and the reason.
import { type Descriptor, isObject, parseDescriptor } from '../store/oci.ts';
import { InvalidArchiveError } from './errors.ts';
import { CONTAINERD_NAME_ANNOTATION, OCI_REF_NAME_ANNOTATION } from './save.ts';

export interface DockerManifestEntry {
  /** Archive path of the config. */
  config: string;
  /** Familiar references, as `docker save` wrote them. */
  repoTags: string[];
  /** Archive paths of the layers, bottom first. */
  layers: string[];
}

export function parseJson(bytes: Buffer, file: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new InvalidArchiveError(file, `not JSON (${(error as Error).message})`);
  }
}

export function parseDockerManifest(bytes: Buffer): DockerManifestEntry[] {
  const file = 'manifest.json';
  const json = parseJson(bytes, file);
  if (!Array.isArray(json)) throw new InvalidArchiveError(file, 'not an array');
  return json.map((value, i) => {
    const where = `${file}[${i}]`;
    if (!isObject(value)) throw new InvalidArchiveError(where, 'not an object');
    if (typeof value.Config !== 'string' || value.Config === '') {
      throw new InvalidArchiveError(`${where}.Config`, 'missing');
    }
    const repoTags = value.RepoTags ?? [];
    if (!Array.isArray(repoTags) || !repoTags.every((t) => typeof t === 'string')) {
      throw new InvalidArchiveError(`${where}.RepoTags`, 'not a list of strings');
    }
    if (!Array.isArray(value.Layers) || !value.Layers.every((l) => typeof l === 'string' && l !== '')) {
      throw new InvalidArchiveError(`${where}.Layers`, 'not a list of paths');
    }
    return { config: value.Config, repoTags, layers: value.Layers };
  });
}

export interface IndexEntry {
  descriptor: Descriptor;
  /** The full reference the entry names, when it names one (docker's containerd name, or a full OCI ref.name). */
  name?: string;
}

export function parseOciIndex(bytes: Buffer, file = 'index.json'): IndexEntry[] {
  const json = parseJson(bytes, file);
  if (!isObject(json) || !Array.isArray(json.manifests)) {
    throw new InvalidArchiveError(file, 'no manifests array');
  }
  return json.manifests.map((value, i) => {
    let descriptor: Descriptor;
    try {
      descriptor = parseDescriptor(value, `manifests[${i}]`);
    } catch (error) {
      throw new InvalidArchiveError(file, (error as Error).message);
    }
    const annotations = descriptor.annotations ?? {};
    const refName = annotations[OCI_REF_NAME_ANNOTATION];
    // An OCI ref.name is often only a tag ("latest"); it names an image only when it holds a repository too.
    const name =
      annotations[CONTAINERD_NAME_ANNOTATION] ?? (refName && /[/:]/.test(refName) ? refName : undefined);
    const { annotations: _, ...bare } = descriptor;
    return name === undefined ? { descriptor: bare } : { descriptor: bare, name };
  });
}
