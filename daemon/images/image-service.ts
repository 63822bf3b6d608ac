// The contract between the API server (daemon/server) and the image engine (pull, push, store).
// The server parses HTTP into these typed requests; the engine never sees fastify.

import type { Readable } from 'node:stream';
import type { AuthConfig } from '../../api-spec/auth-config.ts';
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

/** How registry credentials are handled for one request. */
export interface AuthMode {
  auth: AuthConfig;
  /** clientAuth: never negotiate; forward every registry challenge to the API client. */
  clientAuth: boolean;
  /** clientAuth with authChannel: once the stream has started, challenges are asked in it instead of ending it. */
  channel?: ChallengeChannel;
}

/** A registry challenge the API client is asked to answer while its operation waits. */
export interface ClientChallenge {
  registry: string;
  repository: string;
  /** The registry's WWW-Authenticate lines, verbatim (the last ones seen, for a renewal). */
  lines: string[];
  /** Asked ahead of the answered token's expiry rather than after a 401. */
  renewal: boolean;
}

export interface ClientAnswer {
  auth: AuthConfig;
  /** When the answered token stops working (ms since the epoch), if the client said. */
  expiresAt?: number;
}

/** The stream's way back to its client (the side channel, POST /auth/challenges/{id}). */
export interface ChallengeChannel {
  /** False until the stream's first byte: a challenge before that is answered with HTTP 401, as without a channel. */
  readonly streaming: boolean;
  /** Puts the challenge in the stream and resolves with the answer; rejects (typed) on decline, deadline or abort. */
  ask(challenge: ClientChallenge): Promise<ClientAnswer>;
}

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
  list(options: { all: boolean; filters: ImageFilters; digests: boolean }): Promise<ImageSummary[]>;
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
