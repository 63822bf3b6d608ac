// Small bodies read whole: an error body (capped, the rest discarded) and a manifest or config (refused when over
// its limit rather than held). Blobs are never read here: they stream into the store.

import type { Dispatcher } from 'undici';

/** Reads at most `limit` bytes of a body as text, discarding the rest. */
export async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** Reads a small body whole (a manifest, a config), refusing one over `limit` rather than holding it. */
export async function readLimited(
  body: AsyncIterable<Uint8Array>,
  limit: number,
  what: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new Error(`${what} is over the ${limit}-byte limit`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
