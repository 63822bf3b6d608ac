import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ensureTools,
  installCommand,
  missingTools,
  REQUIRED_TOOLS,
  type Tool,
  which,
} from '../rig/packages.ts';

describe('rig packages', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('finds every tool the rig needs on this machine (global setup installed any missing one)', () => {
    expect(missingTools()).toEqual([]);
    expect(REQUIRED_TOOLS.map((tool) => tool.pkg)).toEqual([
      'docker-registry',
      'skopeo',
      'openssl',
      'tmux',
      'python3-docker',
    ]);
    expect(which('docker-registry')).toMatch(/\/docker-registry$/);
    expect(which('no-such-binary-dockhand')).toBeUndefined();
  });

  it('without root, a missing tool fails with the exact apt-get command', () => {
    vi.spyOn(process as { getuid(): number }, 'getuid').mockReturnValue(1000);
    const missing: Tool[] = [
      { name: 'fake-a', pkg: 'pkg-a', present: () => false },
      { name: 'fake-b', pkg: 'pkg-b', present: () => false },
      { name: 'present', pkg: 'pkg-c', present: () => true },
    ];
    expect(() => ensureTools(missing)).toThrow(
      'apt-get update && apt-get install -y --no-install-recommends pkg-a pkg-b',
    );
    expect(() => ensureTools(missing.slice(2))).not.toThrow();
  });

  it('installCommand dedups packages', () => {
    expect(installCommand(['skopeo', 'skopeo', 'docker-registry'])).toBe(
      'apt-get update && apt-get install -y --no-install-recommends skopeo docker-registry',
    );
  });
});
