// Content whose descriptor or Content-Length already announces more than Dockhand reads of its kind is refused before
// any of it is fetched, with an error naming the limit, and leaves nothing in the data root. The registry is an
// in-process server: a real one would need the 64 MiB config stored to announce it.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_BLOB_LIMIT } from '../../daemon/store/index.ts';
import { MAX_MANIFEST_BYTES } from '../../protocol/index.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pullRaw } from '../helpers/raw-pull.ts';

const HUGE = 64 * 1024 * 1024;
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

const layer = {
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest: digestOf(json('l')),
  size: 10,
};
const bigConfig = {
  mediaType: 'application/vnd.oci.image.config.v1+json',
  digest: digestOf(json('c')),
  size: HUGE,
};
const bigConfigManifest = json({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: bigConfig,
  layers: [layer],
});
const bigEntry = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: digestOf(json('m')),
  size: HUGE,
  platform: { os: 'linux', architecture: GOARCH[process.arch] ?? process.arch },
};
const bigEntryIndex = json({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [bigEntry],
});

/** repository → the manifest served for tag 1 and its digest. */
const MANIFESTS: Record<string, Buffer> = { 'big-config': bigConfigManifest, 'big-entry': bigEntryIndex };

let server: Server;
let host: string;
let daemon: TestDaemon;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const url = req.url ?? '';
    seen.push(`${req.method} ${url}`);
    if (url === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const match = /^\/v2\/([^/]+)\/manifests\/(.+)$/.exec(url);
    const repository = match?.[1] ?? '';
    if (repository === 'big-manifest') {
      // Announces 8 MiB; sends (if anyone waits for it) almost nothing.
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'content-length': String(2 * MAX_MANIFEST_BYTES),
        'docker-content-digest': digestOf(json('big')),
      });
      if (req.method === 'HEAD') res.end();
      else res.write('{');
      return;
    }
    const body = MANIFESTS[repository];
    if (!body || (match?.[2] !== '1' && match?.[2] !== digestOf(body))) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'not served here' }] }));
      return;
    }
    const mediaType = (JSON.parse(body.toString()) as { mediaType: string }).mediaType;
    res.writeHead(200, {
      'content-type': mediaType,
      'content-length': String(body.length),
      'docker-content-digest': digestOf(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  host = `127.0.0.1:${address.port}`;
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.close();
  await new Promise<void>((resolve) => {
    server?.close(() => resolve());
    server?.closeAllConnections();
  });
});

async function expectNothingStored(): Promise<void> {
  const oci = join(daemon.dataRoot, 'oci');
  expect(await readdir(join(oci, 'blobs', 'sha256'))).toEqual([]);
  expect(await readdir(join(oci, 'ingest'))).toEqual([]);
}

describe('size limits announced before the bytes', () => {
  it('a config over the small-blob limit: refused without fetching it', async () => {
    seen.length = 0;
    const outcome = await pullRaw(daemon.socket, `${host}/big-config`, '1');
    expect(outcome.status).toBe(500);
    expect(outcome.message).toBe(
      `config ${bigConfig.digest} is ${HUGE} bytes, over the ${SMALL_BLOB_LIMIT}-byte limit`,
    );
    expect(seen.filter((line) => line.includes('/blobs/'))).toEqual([]);
    await expectNothingStored();
  });

  it('an index entry announcing a manifest over the manifest limit: the child manifest is never asked for', async () => {
    seen.length = 0;
    const outcome = await pullRaw(daemon.socket, `${host}/big-entry`, '1');
    expect(outcome.status).toBe(500);
    expect(outcome.message).toBe(
      `manifest ${bigEntry.digest} is ${HUGE} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`,
    );
    expect(seen.filter((line) => line.includes(bigEntry.digest) || line.includes('/blobs/'))).toEqual([]);
    await expectNothingStored();
  });

  it('a manifest whose Content-Length is over the limit: refused at the headers', async () => {
    const outcome = await pullRaw(daemon.socket, `${host}/big-manifest`, '1');
    expect(outcome.status).toBe(500);
    expect(outcome.message).toMatch(
      new RegExp(
        `^manifest \\S+ is ${2 * MAX_MANIFEST_BYTES} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit$`,
      ),
    );
    await expectNothingStored();
  });
});
