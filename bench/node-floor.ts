// The floor for a node daemon: what plain node (undici + a file write stream + sha256, fsync per blob, all blobs at
// once) achieves on this machine. Run as its own process by the pull section:
//   node --import tsx bench/node-floor.ts <out-dir> <url>...
// Prints {"ms": <download time>} on stdout; process start-up is not counted.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';

async function download(url: string, file: string): Promise<void> {
  const response = await request(url);
  if (response.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${response.statusCode}`);
  const hash = createHash('sha256');
  response.body.on('data', (chunk: Buffer) => hash.update(chunk));
  await pipeline(response.body, createWriteStream(file));
  const expected = url.slice(url.lastIndexOf('/') + 1);
  if (`sha256:${hash.digest('hex')}` !== expected) throw new Error(`GET ${url}: digest mismatch`);
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const [outDir, ...urls] = process.argv.slice(2);
if (outDir === undefined || urls.length === 0) throw new Error('usage: node-floor.ts <out-dir> <url>...');
const started = performance.now();
await Promise.all(urls.map((url, i) => download(url, join(outDir, `blob-${i}`))));
process.stdout.write(`${JSON.stringify({ ms: performance.now() - started })}\n`);
