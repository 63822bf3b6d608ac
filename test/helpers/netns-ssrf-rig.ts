// Runs inside a test's network namespace: listeners on a link-local and a private address that count what
// reaches them, a registry on loopback whose manifests redirect there (repositories `metadata` and `private`) or
// whose 401 names a token realm on a DNS name that resolves there (`realm/<name>`), and a Dockhand daemon. Prints
// {"socket","registry"} once ready; on each stdin line prints the listeners' counts, except `sdk <name>`, which
// answers such a realm's challenge with the SDK's token handler and prints the error it failed with; exits when
// stdin closes.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { createTokenChallengeHandler, parseWwwAuthenticate } from '../../client/index.ts';
import { startTestDaemon } from './daemon.ts';

const [linkLocal, privateAddress] = process.argv.slice(2) as [string, string];
const counts: Record<string, number> = { [linkLocal]: 0, [privateAddress]: 0 };

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve) =>
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port)),
  );
}

const servers: Server[] = [];
for (const address of [linkLocal, privateAddress]) {
  const server = createServer((_req, res) => {
    counts[address] = (counts[address] ?? 0) + 1;
    res.end('{}');
  });
  servers.push(server);
  await listen(server, 80, address);
}
function realmChallenge(name: string): string {
  return `Bearer realm="http://${name}/latest/meta-data/token",service="netns"`;
}

const sdkHandler = createTokenChallengeHandler({
  credentials: async () => ({ username: 'sdk-user', password: 'sdk-secret-password' }),
});

/** The SDK answering a challenge of the registry's whose realm is on `name`: how it failed, if it did. */
async function sdkAnswer(name: string): Promise<{ error?: string; message?: string }> {
  const lines = [realmChallenge(name)];
  const challenge = { registry: `127.0.0.1:${port}`, repository: 'realm', lines, attempt: 1 };
  return sdkHandler({ ...challenge, challenges: parseWwwAuthenticate(lines) }).then(
    () => ({}),
    (err: Error) => ({ error: err.name, message: err.message }),
  );
}

const registry = createServer((req, res) => {
  const url = req.url ?? '';
  if (url === '/v2/') return res.writeHead(200).end('{}');
  const realm = /^\/v2\/realm\/([a-z0-9.-]+)\//.exec(url)?.[1];
  if (realm) return res.writeHead(401, { 'www-authenticate': realmChallenge(realm) }).end();
  const to = url.startsWith('/v2/metadata/')
    ? linkLocal
    : url.startsWith('/v2/private/')
      ? privateAddress
      : '';
  if (to) return res.writeHead(307, { location: `http://${to}/latest/meta-data/` }).end();
  res.writeHead(404).end();
});
servers.push(registry);
const port = await listen(registry, 0, '127.0.0.1');
const daemon = await startTestDaemon();
process.stdout.write(`${JSON.stringify({ socket: daemon.socket, registry: `127.0.0.1:${port}` })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const name = /^sdk (.+)$/.exec(line)?.[1];
  const answer = name === undefined ? counts : await sdkAnswer(name);
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});
lines.on('close', async () => {
  await daemon.close();
  for (const server of servers) server.close();
  process.exit(0);
});
