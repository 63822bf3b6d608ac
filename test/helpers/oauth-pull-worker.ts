// One CLI-like process pulling through a Dockhand daemon with clientAuth and the OAuth challenge handler, for
// tests that start several at once. It prints "ready" once loaded and pulls when a line arrives on stdin, so a
// test can release every process at the same instant; then it prints the pull result as JSON.
// Usage: node --import tsx oauth-pull-worker.ts <daemon socket> <ref> <client id> [token store file]
// Without a store file it uses docker's config.json (DOCKER_CONFIG, credential helpers on PATH).

import { once } from 'node:events';
import {
  createDockerConfigStore,
  createFileTokenStore,
  createOAuthChallengeHandler,
  EngineClient,
} from '../../client/index.ts';

const [socketPath, ref, clientId, storePath] = process.argv.slice(2);
if (socketPath === undefined || ref === undefined || clientId === undefined) {
  throw new Error('usage: oauth-pull-worker.ts <daemon socket> <ref> <client id> [token store file]');
}
const store = storePath ? createFileTokenStore(storePath) : createDockerConfigStore();
const engine = new EngineClient({ socketPath });
const challengeHandler = createOAuthChallengeHandler({ store, clientId });
await engine.apiVersion();

process.stdout.write('ready\n');
await once(process.stdin, 'data');
const result = await engine.pull(ref, { challengeHandler });
await engine.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.stdin.destroy();
