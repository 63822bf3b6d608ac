// Small bodies (manifests, configs, token responses, listing pages) are read whole; one that passes its limit is
// refused at that moment (the rest is never read or held), whatever its Content-Length claimed.
import { ProtocolError } from './errors.ts';

export class BodyTooLargeError extends ProtocolError {
  readonly limit: number;

  constructor(what: string, limit: number) {
    super('body', 'too-large', `${what} is over the ${limit}-byte limit`);
    this.limit = limit;
  }
}

/** The whole body, or BodyTooLargeError once more than `limit` bytes arrived (the stream is then destroyed). */
export async function readLimited(
  body: AsyncIterable<Uint8Array>,
  limit: number,
  what: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(what, limit);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
