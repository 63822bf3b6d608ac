import type { DaemonConfig } from '../config.ts';
import type { ImageService } from '../images/image-service.ts';
import type { OpenApiDocument } from './openapi.ts';
import type { PendingChallenges } from './pending-challenges.ts';
import type { ActiveStreams } from './stream.ts';

/** What every route plugin is given (plugin options, not globals). */
export interface RouteContext {
  service: ImageService;
  streams: ActiveStreams;
  doc: OpenApiDocument;
  config: DaemonConfig;
  /** Challenges put in streams, waiting for their answer on the side channel. */
  challenges: PendingChallenges;
}
