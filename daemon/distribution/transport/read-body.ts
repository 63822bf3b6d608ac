// An error body read whole, capped, the rest discarded (manifests and configs use protocol's readLimited; blobs are
// never read whole: they stream into the store).

import type { ResponseBody } from './round-trip.ts';

/** Reads at most `limit` bytes of a body as text, discarding the rest. */
export async function readCapped(body: ResponseBody, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}
