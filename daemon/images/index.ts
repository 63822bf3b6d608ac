// The image engine behind the API server: registry access, the data root, pull, push and local images.

import type { DaemonConfig } from '../config.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../registry/retry.ts';
import { Store } from '../store/index.ts';
import { diskUsage } from './disk-usage.ts';
import { distributionInspect } from './distribution.ts';
import { EngineStore } from './engine-store.ts';
import { ImageEvents } from './events.ts';
import { ImageArchives } from './image-archives.ts';
import { imageHistory } from './image-history.ts';
import type { ImageService } from './image-service.ts';
import { LocalImages } from './local-images.ts';
import { login } from './login.ts';
import { preparePull } from './pull-service.ts';
import { preparePushJob } from './push-service.ts';
import { RegistryAccess } from './registry-access.ts';

export interface EngineOptions {
  /** Backoff of registry retries; tests shorten it. */
  retry?: RetryPolicy;
  /** Directory of <host:port>/ca.crt files. */
  certsDir?: string;
}

export type ClosableImageService = ImageService & { close(): Promise<void>; readonly store: Store };

export async function createImageService(
  config: Pick<
    DaemonConfig,
    'dataRoot' | 'insecureRegistries' | 'registryMirrors' | 'maxConcurrentDownloads'
  >,
  options: EngineOptions = {},
): Promise<ClosableImageService> {
  const store = await Store.open(config.dataRoot);
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const { 'docker.io': hubMirrors = [], ...mirrorsByHost } = config.registryMirrors;
  const access = new RegistryAccess({
    insecureRegistries: config.insecureRegistries,
    registryMirrors: hubMirrors,
    mirrorsByHost,
    retry,
    clientId: 'dockhand',
    ...(options.certsDir ? { certsDir: options.certsDir } : {}),
  });
  const events = new ImageEvents();
  const engine = new EngineStore(store);
  const local = new LocalImages(store, events);
  const archives = new ImageArchives(store, local, events);
  return {
    store,
    events,
    pull: (request, signal) =>
      preparePull(
        { access, store: engine, events, maxConcurrentDownloads: config.maxConcurrentDownloads, retry },
        request,
        signal,
      ),
    push: (request, signal) => preparePushJob({ access, catalog: engine, events }, request, signal),
    login: (mode) => login(access, mode, AbortSignal.timeout(60_000)),
    distributionInspect: (reference, mode, signal) => distributionInspect(access, reference, mode, signal),
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
