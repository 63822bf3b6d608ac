// The clientAuth 401: what the daemon answers when a registry challenged and the client must supply credentials,
// and the side channel on which a client answers a challenge raised after the stream had started.

/** Names the registry host[:port] that challenged, so the client knows whom its answer is for. */
export const REGISTRY_HOST_HEADER = 'docker-registry-host';
export const WWW_AUTHENTICATE_HEADER = 'www-authenticate';

/** JSON body of the 401 (the WWW-Authenticate lines are also copied, byte for byte, as headers). */
export interface AuthChallengeBody {
  message: string;
  registry: string;
  repository: string;
  challenges: string[];
}

export function authChallengeMessage(registry: string, repository: string, challenged: boolean): string {
  return challenged
    ? `authentication required by registry ${registry} for repository ${repository}`
    : `registry ${registry} refused access to ${repository} (401 without a challenge)`;
}

/**
 * The opt-in query parameter (a BoolParam, next to clientAuth): a challenge raised after the stream started is put
 * in the stream with an id and answered on the side channel, and the operation goes on where it was.
 */
export const AUTH_CHANNEL_PARAM = 'authChannel';

/** The side channel's route, for a challenge id the stream carried. */
export function challengeAnswerPath(id: string): string {
  return `/auth/challenges/${encodeURIComponent(id)}`;
}

/**
 * Body of POST /auth/challenges/{id}: either the answer's lifetime (with the credentials in X-Registry-Auth), so the
 * daemon asks again before it ends, or `decline` with the client's reason, which ends the operation with it.
 */
export interface ChallengeAnswerBody {
  /** Seconds the answered token stays valid, as its token server said (expires_in). */
  expiresIn?: number;
  decline?: string;
}
