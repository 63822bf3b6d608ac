// How registry credentials are handled for one request, and (clientAuth) the way back to the API client that
// answers challenges. The server builds these from the request; the authorizers read them.

import type { AuthConfig } from '../../../api-spec/auth-config.ts';

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
