// A token store that lives as long as the process: for tests, and for callers that persist elsewhere.

import { KeyedMutex } from '../../protocol/keyed-mutex.ts';
import { registryHostKey } from '../../protocol/registry-host.ts';
import type { TokenEntry, TokenStore } from './token-store.ts';

export function createMemoryTokenStore(initial: Record<string, TokenEntry> = {}): TokenStore {
  const entries = new Map<string, TokenEntry>();
  for (const [host, entry] of Object.entries(initial)) entries.set(registryHostKey(host), { ...entry });
  const mutex = new KeyedMutex();
  return {
    async get(host) {
      const entry = entries.get(registryHostKey(host));
      return entry === undefined ? undefined : { ...entry };
    },
    async set(host, entry) {
      entries.set(registryHostKey(host), { ...entry });
    },
    async delete(host) {
      entries.delete(registryHostKey(host));
    },
    withLock(host, fn) {
      return mutex.run(registryHostKey(host), fn);
    },
  };
}
