// How a built-in handler answers with a token it obtained: the token for the challenged host, when it stops working
// (so the operation can renew ahead of it), and what the token server said it granted.
import { type TokenResponse, tokenEndsAt } from '../../protocol/index.ts';
import type { ChallengeAnswer } from '../challenge.ts';

export function answerOf(host: string, token: TokenResponse): ChallengeAnswer {
  return {
    serveraddress: host,
    registrytoken: token.token,
    expiresAt: tokenEndsAt(token),
    ...(token.scope !== undefined ? { grantedScope: token.scope } : {}),
  };
}
