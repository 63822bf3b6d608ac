// Runs inside a test's network namespace: listeners on a link-local and a private address that count what
// reaches them, a registry on loopback whose manifests redirect there (repositories `metadata` and `private`),
// whose image's 3 MiB layer does (`big-metadata`, `big-private`: a blob the daemon reads over the bulk wire), or
// whose 401 names a token realm on a DNS name that resolves there (`realm/<name>`), and a Dockhand daemon. Prints
// {"socket","registry"} once ready; on each stdin line prints the listeners' counts, except `sdk <name>`, which
// answers such a realm's challenge with the SDK's token handler and prints the error it failed with, and `layer
// gets`, which prints the `connection` header of each large layer GET; exits when stdin closes.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
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

const digestOf = (bytes: string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const bigConfig = JSON.stringify({
  architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [`sha256:${'1'.repeat(64)}`] },
  config: {},
});
const bigLayer = `sha256:${'b'.repeat(64)}`;
const bigManifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    digest: digestOf(bigConfig),
    size: Buffer.byteLength(bigConfig),
  },
  layers: [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: bigLayer, size: 3 * 1024 * 1024 },
  ],
});
/** The paths each connection to the registry carried. */
const carried = new Map<Socket, string[]>();
/** The connection of each GET of the large layer. */
const layerGets: Socket[] = [];
const isLayerGet = (path: string) => path.endsWith(`/blobs/${bigLayer}`);

/** `big-metadata` and `big-private`: the manifest and config served, the large layer redirected to `to`. */
function answerBig(url: string, req: IncomingMessage, res: ServerResponse, to: string): ServerResponse {
  const send = (type: string, body: string) =>
    res
      .writeHead(200, {
        'content-type': type,
        'content-length': Buffer.byteLength(body),
        'docker-content-digest': digestOf(body),
      })
      .end(req.method === 'HEAD' ? undefined : body);
  if (url.endsWith('/manifests/1') || url.endsWith(`/manifests/${digestOf(bigManifest)}`))
    return send('application/vnd.oci.image.manifest.v1+json', bigManifest);
  if (url.endsWith(`/blobs/${digestOf(bigConfig)}`))
    return send('application/vnd.oci.image.config.v1+json', bigConfig);
  if (isLayerGet(url)) {
    layerGets.push(req.socket);
    return res.writeHead(307, { location: `http://${to}/latest/meta-data/` }).end();
  }
  return res.writeHead(404).end();
}

const registry = createServer((req, res) => {
  const url = req.url ?? '';
  carried.set(req.socket, [...(carried.get(req.socket) ?? []), url]);
  if (url === '/v2/') return res.writeHead(200).end('{}');
  const big = /^\/v2\/big-(metadata|private)\//.exec(url)?.[1];
  if (big) return answerBig(url, req, res, big === 'metadata' ? linkLocal : privateAddress);
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
  // Per layer GET: whether its connection carried nothing but layer GETs (the blob thread's, not the daemon's wire).
  const layerAlone = () => layerGets.map((socket) => (carried.get(socket) ?? []).every(isLayerGet));
  const answer = line === 'layer gets' ? layerAlone() : name === undefined ? counts : await sdkAnswer(name);
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});
lines.on('close', async () => {
  await daemon.close();
  for (const server of servers) server.close();
  process.exit(0);
});
