// An in-memory ImageService for the HTTP layer's tests: records every call and lets each test script the engine's
// behaviour (jobs, errors, challenges) without a registry.
import { Readable } from 'node:stream';
import type { JSONMessage } from '../../../api-spec/json-message.ts';
import type {
  AuthResponse,
  DistributionInspect,
  EventMessage,
  HistoryResponseItem,
  ImageDeleteResponseItem,
  ImageFilters,
  ImageInspect,
  ImagePruneResponse,
  ImageSummary,
  SystemDataUsage,
} from '../../../api-spec/types.ts';
import { NotFoundError } from '../../../daemon/errors.ts';
import type {
  AuthMode,
  EventLog,
  ImageService,
  PullRequest,
  PushRequest,
  StreamingJob,
} from '../../../daemon/images/image-service.ts';

export const SMALL_ID = `sha256:${'ab'.repeat(32)}`;
export const SMALL_MANIFEST = `sha256:${'cd'.repeat(32)}`;

export function smallSummary(): ImageSummary {
  return {
    Id: SMALL_ID,
    ParentId: '',
    RepoTags: ['127.0.0.1:5000/small:1'],
    RepoDigests: [`127.0.0.1:5000/small@${SMALL_MANIFEST}`],
    Created: 1704067200,
    Size: 1049097,
    SharedSize: -1,
    Labels: { 'org.example': 'yes' },
    Containers: -1,
  };
}

export function smallInspect(): ImageInspect {
  return {
    Id: SMALL_ID,
    RepoTags: ['127.0.0.1:5000/small:1'],
    RepoDigests: [`127.0.0.1:5000/small@${SMALL_MANIFEST}`],
    Parent: '',
    Comment: '',
    Created: '2024-01-01T00:00:00Z',
    DockerVersion: '',
    Author: '',
    Config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] },
    Architecture: 'amd64',
    Os: 'linux',
    Size: 1049097,
    GraphDriver: { Name: 'oci-layout', Data: {} },
    RootFS: { Type: 'layers', Layers: [`sha256:${'ef'.repeat(32)}`] },
    Metadata: {},
  };
}

/** A job that emits `messages` in order, then optionally fails with `failWith`. */
export function scriptedJob(messages: JSONMessage[], failWith?: Error): StreamingJob {
  return {
    async run(emit, signal) {
      for (const m of messages) {
        signal.throwIfAborted();
        emit(m);
        await new Promise((r) => setImmediate(r));
      }
      if (failWith) throw failWith;
    },
  };
}

/** A job that emits one message, then waits until its signal aborts (to observe disconnects and shutdown). */
export function hangingJob(onAbort: (reason: unknown) => void): StreamingJob {
  return {
    run(emit, signal) {
      emit({ status: 'Pulling from small', id: '1' });
      return new Promise((_resolve, reject) => {
        signal.addEventListener(
          'abort',
          () => {
            onAbort(signal.reason);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
  };
}

export const STANDARD_PULL: JSONMessage[] = [
  { status: 'Pulling from small', id: '1' },
  { status: 'Pulling fs layer', progressDetail: {}, id: '0c569bdf46fb' },
  { status: 'Downloading', progressDetail: { current: 100, total: 200 }, id: '0c569bdf46fb' },
  { status: 'Pull complete', progressDetail: {}, id: '0c569bdf46fb' },
  { status: `Digest: ${SMALL_MANIFEST}` },
  { status: 'Status: Downloaded newer image for 127.0.0.1:5000/small:1' },
];

export class FakeEventLog implements EventLog {
  readonly past: EventMessage[] = [];
  readonly listeners = new Set<(event: EventMessage) => void>();

  history(): EventMessage[] {
    return [...this.past];
  }

  subscribe(listener: (event: EventMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: EventMessage): void {
    this.past.push(event);
    for (const l of this.listeners) l(event);
  }
}

export function imageEvent(action: EventMessage['Action'], name: string, timeSeconds: number): EventMessage {
  return {
    Type: 'image',
    Action: action,
    Actor: { ID: name, Attributes: { name } },
    scope: 'local',
    time: timeSeconds,
    timeNano: timeSeconds * 1e9,
  };
}

export class FakeImageService implements ImageService {
  readonly events = new FakeEventLog();
  readonly images = new Map<string, { summary: ImageSummary; inspect: ImageInspect }>([
    ['127.0.0.1:5000/small:1', { summary: smallSummary(), inspect: smallInspect() }],
  ]);
  readonly calls = {
    pull: [] as PullRequest[],
    push: [] as PushRequest[],
    login: [] as AuthMode[],
    distribution: [] as { reference: string; mode: AuthMode }[],
    list: [] as { all: boolean; filters: ImageFilters; digests: boolean }[],
    remove: [] as { name: string; options: { force: boolean; noprune: boolean } }[],
    tag: [] as { name: string; repo: string; tag: string | undefined }[],
    prune: [] as ImageFilters[],
  };

  /** Replace to script pulls; the default emits a standard successful pull. */
  pullBehaviour: (request: PullRequest, signal: AbortSignal) => Promise<StreamingJob> = async () =>
    scriptedJob(STANDARD_PULL);
  pushBehaviour: (request: PushRequest, signal: AbortSignal) => Promise<StreamingJob> = async (r) =>
    scriptedJob([{ status: `The push refers to repository [${r.name}]` }, { status: 'Pushed', id: 'abc' }]);
  loginBehaviour: (mode: AuthMode) => Promise<AuthResponse> = async () => ({ Status: 'Login Succeeded' });
  distributionBehaviour: (reference: string, mode: AuthMode) => Promise<DistributionInspect> = async () => ({
    Descriptor: {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: SMALL_MANIFEST,
      size: 512,
    },
    Platforms: [{ os: 'linux', architecture: 'amd64' }],
  });

  pull(request: PullRequest, signal: AbortSignal): Promise<StreamingJob> {
    this.calls.pull.push(request);
    return this.pullBehaviour(request, signal);
  }

  push(request: PushRequest, signal: AbortSignal): Promise<StreamingJob> {
    this.calls.push.push(request);
    return this.pushBehaviour(request, signal);
  }

  login(request: AuthMode): Promise<AuthResponse> {
    this.calls.login.push(request);
    return this.loginBehaviour(request);
  }

  distributionInspect(reference: string, mode: AuthMode): Promise<DistributionInspect> {
    this.calls.distribution.push({ reference, mode });
    return this.distributionBehaviour(reference, mode);
  }

  async list(options: { all: boolean; filters: ImageFilters; digests: boolean }): Promise<ImageSummary[]> {
    this.calls.list.push(options);
    const byId = new Map([...this.images.values()].map((i) => [i.summary.Id, i.summary]));
    return [...byId.values()];
  }

  /** By name or by ID, as clients look images up both ways (docker-py inspects each listed ID). */
  async inspect(name: string): Promise<ImageInspect> {
    const image = this.images.get(name) ?? [...this.images.values()].find((i) => i.summary.Id === name);
    if (!image) throw new NotFoundError(`No such image: ${name}`);
    return image.inspect;
  }

  async remove(
    name: string,
    options: { force: boolean; noprune: boolean },
  ): Promise<ImageDeleteResponseItem[]> {
    this.calls.remove.push({ name, options });
    const image = this.images.get(name);
    if (!image) throw new NotFoundError(`No such image: ${name}`);
    this.images.delete(name);
    return [{ Untagged: name }, { Deleted: image.summary.Id }];
  }

  async tag(name: string, repo: string, tag: string | undefined): Promise<void> {
    this.calls.tag.push({ name, repo, tag });
    const image = this.images.get(name);
    if (!image) throw new NotFoundError(`No such image: ${name}`);
    this.images.set(`${repo}:${tag ?? 'latest'}`, image);
  }

  async prune(filters: ImageFilters): Promise<ImagePruneResponse> {
    this.calls.prune.push(filters);
    return { ImagesDeleted: null, SpaceReclaimed: 0 };
  }

  async count(): Promise<number> {
    return this.images.size;
  }

  async history(name: string): Promise<HistoryResponseItem[]> {
    const image = await this.inspect(name);
    return [{ Id: image.Id, Created: 0, CreatedBy: 'test', Tags: image.RepoTags, Size: 0, Comment: '' }];
  }

  async save(names: string[]): Promise<Readable> {
    for (const name of names) await this.inspect(name);
    return Readable.from([Buffer.alloc(1024)]);
  }

  load(body: Readable): StreamingJob {
    return {
      async run(emit) {
        for await (const _ of body);
        emit({ stream: 'Loaded image: 127.0.0.1:5000/small:1\n' });
      },
    };
  }

  async diskUsage(): Promise<SystemDataUsage> {
    const Images = await this.list({ all: false, filters: {}, digests: false });
    return { LayersSize: 0, Images, Containers: [], Volumes: [], BuildCache: [] };
  }
}
