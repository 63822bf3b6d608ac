// challenge-memory.ts: a challenge is checked before it is remembered, and remembered challenges expire.
import { describe, expect, it, vi } from 'vitest';
import { ChallengeMemory } from '../../../daemon/distribution/auth/challenge-memory.ts';
import { RealmRefusedError } from '../../../protocol/index.ts';

const registry = { host: 'registry.example:5000', origin: 'https://registry.example:5000', secure: true };

describe('ChallengeMemory', () => {
  it('remembers by origin: the same host over another scheme knows nothing', () => {
    const memory = new ChallengeMemory();
    memory.remember(registry, ['Bearer realm="https://auth.example/token",service="r"']);
    expect(memory.get(registry)).toEqual({
      scheme: 'bearer',
      realm: 'https://auth.example/token',
      service: 'r',
      scopes: [],
    });
    expect(memory.get({ origin: 'http://registry.example:5000' })).toBeUndefined();
  });

  it('does not remember a realm the realm policy refuses', () => {
    const memory = new ChallengeMemory();
    expect(() => memory.remember(registry, ['Bearer realm="http://169.254.169.254/token"'])).toThrow(
      RealmRefusedError,
    );
    expect(memory.get(registry)).toBeUndefined();
  });

  it('forgets on request and when the entry expires', () => {
    vi.useFakeTimers();
    try {
      const memory = new ChallengeMemory(1000);
      memory.remember(registry, ['Basic realm="r"']);
      expect(memory.get(registry)).toEqual({ scheme: 'basic' });
      vi.advanceTimersByTime(1001);
      expect(memory.get(registry)).toBeUndefined();
      memory.remember(registry, ['Basic realm="r"']);
      memory.forget(registry);
      expect(memory.get(registry)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
