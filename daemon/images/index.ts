// The image service behind the API server: where Engine API requests become typed distribution operations over the
// data root, and distribution failures become Engine API errors. Also the composition root of the engine.

import type { DaemonConfig } from '../config.ts';
import { inspectDistribution } from '../distribution/inspect.ts';
import { login } from '../distribution/login.ts';
import { AllTagsPull } from '../distribution/pull/all-tags.ts';
import { Pull } from '../distribution/pull/pull.ts';
import { Push } from '../distribution/push/push.ts';
import { RegistryAccess } from '../distribution/registry-access.ts';
import { DistributionStore } from '../distribution/store-adapter.ts';
import type { RetryPolicy } from '../distribution/transport/retry.ts';
import { DEFAULT_LIMITS, type TransportLimits } from '../distribution/transport/transport.ts';
import { Store } from '../store/index.ts';
import { diskUsage } from './disk-usage.ts';
import { engineError, type Operation } from './engine-errors.ts';
import { ImageEvents } from './events.ts';
import { ImageArchives } from './image-archives.ts';
import { imageHistory } from './image-history.ts';
import type { ImageService, StreamingJob } from './image-service.ts';
import { LocalImages } from './local-images.ts';
import { imageReference, operationOf, pullPlatform } from './references.ts';

export interface EngineOptions {
  /** Backoff of registry retries; tests shorten it. */
  retry?: RetryPolicy;
  /** Registry access limits in milliseconds, over the config's (tests shorten them). */
  limits?: Partial<TransportLimits>;
  /** Directory of <host:port>/ca.crt files. */
  certsDir?: string;
}

type RegistryLimitSettings =
  | 'registryRetries'
  | 'registryTimeout'
  | 'registryIdleTimeout'
  | 'registryMinRate';

export type ClosableImageService = ImageService & { close(): Promise<void>; readonly store: Store };

export async function createImageService(
  config: Pick<
    DaemonConfig,
    'dataRoot' | 'insecureRegistries' | 'registryMirrors' | 'maxConcurrentDownloads'
  > &
    Partial<Pick<DaemonConfig, RegistryLimitSettings>>,
  options: EngineOptions = {},
): Promise<ClosableImageService> {
  const store = await Store.open(config.dataRoot);
  const limits = { ...limitsOf(config), ...options.limits };
  if (options.retry) limits.retry = options.retry;
  const { 'docker.io': hubMirrors = [], ...mirrorsByHost } = config.registryMirrors;
  const access = new RegistryAccess({
    insecureRegistries: config.insecureRegistries,
    registryMirrors: hubMirrors,
    mirrorsByHost,
    limits,
    clientId: 'dockhand',
    ...(options.certsDir ? { certsDir: options.certsDir } : {}),
  });
  const events = new ImageEvents();
  const content = new DistributionStore(store);
  const local = new LocalImages(store, events);
  const archives = new ImageArchives(store, local, events);
  return {
    store,
    events,
    async pull(request, signal) {
      const reference = imageReference(request.reference);
      const op = operationOf('pull', reference);
      const deps = {
        access,
        store: content,
        maxConcurrentDownloads: config.maxConcurrentDownloads,
        retry: access.transport.limits.retry,
      };
      const pullRequest = { reference, platform: pullPlatform(request.platform), mode: request };
      // No tag and no digest: every tag (`docker pull -a`; the CLI sends `tag=latest` for a plain pull).
      if (reference.tag === undefined && reference.digest === undefined) {
        const all = await mapErrors(op, () => AllTagsPull.prepare(deps, pullRequest, signal));
        return streaming(op, (emit, runSignal) =>
          all.run(emit, runSignal, (familiar) => events.publish('pull', familiar)),
        );
      }
      const pull = await mapErrors(op, () => Pull.prepare(deps, pullRequest, signal));
      return streaming(op, async (emit, runSignal) => {
        await pull.run(emit, runSignal);
        events.publish('pull', pull.familiar);
      });
    },
    async push(request, signal) {
      const reference = imageReference(request.tag ? `${request.name}:${request.tag}` : request.name);
      const op = operationOf('push', reference);
      const push = await mapErrors(op, () =>
        Push.prepare({ access, store: content }, { reference, mode: request }, signal),
      );
      return streaming(op, (emit) => push.run(emit, (tag) => events.publish('push', tag)));
    },
    login: (mode) => mapErrors(undefined, () => login(access, mode, AbortSignal.timeout(60_000))),
    distributionInspect: (reference, mode, signal) => {
      const ref = imageReference(reference);
      return mapErrors(operationOf('inspect', ref), () => inspectDistribution(access, ref, mode, signal));
    },
    list: (o) => local.list(o),
    inspect: (name) => local.inspect(name),
    remove: (name, o) => local.remove(name, o),
    tag: (name, repo, tag) => local.tag(name, repo, tag),
    prune: (filters) => local.prune(filters),
    history: (name) => imageHistory(store, local, name),
    save: (names) => archives.save(names),
    load: (body) => archives.load(body),
    diskUsage: () => diskUsage(store, local),
    count: async () => local.count(),
    async close() {
      await access.close();
      await store.close();
    },
  };
}

/** The daemon's registry settings (seconds, bytes/s) as transport limits; what is not set keeps its default. */
function limitsOf(config: Partial<Pick<DaemonConfig, RegistryLimitSettings>>): TransportLimits {
  const d = DEFAULT_LIMITS;
  return {
    retry: { ...d.retry, maxRetries: config.registryRetries ?? d.retry.maxRetries },
    requestTimeoutMs:
      config.registryTimeout === undefined ? d.requestTimeoutMs : config.registryTimeout * 1000,
    idleTimeoutMs:
      config.registryIdleTimeout === undefined ? d.idleTimeoutMs : config.registryIdleTimeout * 1000,
    transferRate: {
      ...d.transferRate,
      minBytesPerSecond: config.registryMinRate ?? d.transferRate.minBytesPerSecond,
    },
  };
}

async function mapErrors<T>(op: Operation | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw engineError(err, op);
  }
}

function streaming(op: Operation, run: StreamingJob['run']): StreamingJob {
  return { run: (emit, signal) => mapErrors(op, () => run(emit, signal)) };
}
