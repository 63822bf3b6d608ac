// The contract between the API server (daemon/server) and the image engine (pull, push, store).
// The server parses HTTP into these typed requests; the engine never sees fastify.

import type { Readable } from 'node:stream';
import type { JSONMessage } from '../../api-spec/json-message.ts';
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
  OCIPlatform,
  SystemDataUsage,
} from '../../api-spec/types.ts';

import type {
  AuthMode,
  ChallengeChannel,
  ClientAnswer,
  ClientChallenge,
} from '../distribution/auth/auth-mode.ts';

export type { AuthMode, ChallengeChannel, ClientAnswer, ClientChallenge };

export interface PullRequest extends AuthMode {
  /** The reference as the client wrote it (fromImage, with `tag` merged in). */
  reference: string;
  platform?: OCIPlatform;
}

export interface PushRequest extends AuthMode {
  /** Repository without tag, e.g. 127.0.0.1:5000/small. */
  name: string;
  /** Empty or undefined pushes every local tag of the repository. */
  tag?: string;
  platform?: OCIPlatform;
}

/**
 * A long operation whose authorization and resolution are settled: `prepare` throws (typed DaemonError) before any
 * byte is written, so those failures become HTTP statuses; `run` emits the JSON message stream, and a failure there
 * becomes an errorDetail message (a late registry challenge: code 401 with aux.authChallenge).
 */
export interface StreamingJob {
  run(emit: (message: JSONMessage) => void, signal: AbortSignal): Promise<void>;
}

export interface ImageService {
  pull(request: PullRequest, signal: AbortSignal): Promise<StreamingJob>;
  push(request: PushRequest, signal: AbortSignal): Promise<StreamingJob>;
  login(request: AuthMode): Promise<AuthResponse>;
  distributionInspect(reference: string, mode: AuthMode, signal: AbortSignal): Promise<DistributionInspect>;
  /** The same array for the same filters until the images change: callers only read it. */
  list(options: { all: boolean; filters: ImageFilters; digests: boolean }): Promise<readonly ImageSummary[]>;
  inspect(name: string): Promise<ImageInspect>;
  remove(name: string, options: { force: boolean; noprune: boolean }): Promise<ImageDeleteResponseItem[]>;
  tag(name: string, repo: string, tag: string | undefined): Promise<void>;
  prune(filters: ImageFilters): Promise<ImagePruneResponse>;
  history(name: string): Promise<HistoryResponseItem[]>;
  /** docker save: every name resolved before the first byte (404 otherwise), then a tar stream. */
  save(names: string[]): Promise<Readable>;
  /** docker load: reads the archive from `body`; its JSON messages name each loaded tag. */
  load(body: Readable): StreamingJob;
  diskUsage(): Promise<SystemDataUsage>;
  /** Count of images, for GET /info. */
  count(): Promise<number>;
  readonly events: EventLog;
}

/** Image events: a bounded history (for `since`) and live subscribers (GET /events). */
export interface EventLog {
  history(): EventMessage[];
  subscribe(listener: (event: EventMessage) => void): () => void;
}
