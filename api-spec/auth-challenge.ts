// The clientAuth 401: what the daemon answers when a registry challenged and the client must supply credentials.

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
