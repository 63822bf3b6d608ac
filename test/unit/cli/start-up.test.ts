// What the commands that only talk to the daemon load. The CLI's start-up time is mostly module loading, so they must
// load neither undici (a heavy import whose WebAssembly parser also delays the exit), nor the registry side of the
// SDK, nor the challenge loop. The time itself is measured by `npm run bench` (section cli).

import { afterEach, describe, expect, it } from 'vitest';
import { runDockhand } from '../../helpers/dockhand-cli.ts';
import { type FakeDaemon, startFakeDaemon } from '../client/fake-daemon.ts';

const SERVER_VERSION = {
  Platform: { Name: 'Dockhand' },
  Version: '0.1.0',
  ApiVersion: '1.50',
  MinAPIVersion: '1.40',
  Os: 'linux',
  Arch: 'amd64',
};

let daemon: FakeDaemon | undefined;

afterEach(async () => {
  await daemon?.close();
  daemon = undefined;
});

/** Every module the ESM loader stored while the command ran (node's own `esm` debug log), as URLs. */
function loadedModules(debugLog: string): string[] {
  return [...debugLog.matchAll(/Storing (\S+)/g)].map((match) => match[1]!);
}

const UNWANTED =
  /\/node_modules\/|\/client\/(index|challenge|side-channel|message-stream)\.js$|\/protocol\/index\.js$/;

describe('start-up of the commands that only talk to the daemon', () => {
  it.each([
    ['version', SERVER_VERSION, 'API version:      1.50 (minimum version 1.40)'],
    ['images', [], 'REPOSITORY'],
  ])(
    'dockhand %s loads neither undici, the registry client nor the challenge loop',
    async (command, answer, shown) => {
      daemon = await startFakeDaemon((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
      const result = await runDockhand([command], {
        ...process.env,
        DOCKER_HOST: `unix://${daemon.socketPath}`,
        NODE_DEBUG: 'esm',
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(shown);
      const loaded = loadedModules(result.stderr);
      expect(loaded).toContainEqual(expect.stringContaining('/client/engine-client.js'));
      expect(loaded.filter((url) => UNWANTED.test(url))).toEqual([]);
    },
  );
});
