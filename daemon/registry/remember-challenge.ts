// Records what a host's challenge asked for, so later requests to it can authorize without another 401.

import { bearerParams, parseWwwAuthenticate } from '../../protocol/index.ts';
import type { ChallengeMemory } from './authorizer.ts';

export function rememberChallenge(memory: ChallengeMemory, host: string, lines: string[]): void {
  const challenges = parseWwwAuthenticate(lines);
  const bearer = bearerParams(challenges);
  if (bearer) {
    memory.set(host, {
      scheme: 'bearer',
      realm: bearer.realm,
      service: bearer.service,
      scopes: bearer.scope ?? [],
    });
  } else if (challenges.some((c) => c.scheme === 'basic')) {
    memory.set(host, { scheme: 'basic' });
  }
}
