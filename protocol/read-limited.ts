// Small bodies (manifests, configs, token responses, listing pages) are read whole; one that passes its limit is
// refused at that moment (the rest is never read or held), whatever its Content-Length claimed.
import { ProtocolError } from './errors.ts';

export class BodyTooLargeError extends ProtocolError {
  readonly limit: number;
  /** The size a descriptor or Content-Length announced, when the refusal came before any byte was read. */
  readonly announced: number | undefined;

  constructor(what: string, limit: number, announced?: number) {
    super(
      'body',
      'too-large',
      announced === undefined
        ? `${what} is over the ${limit}-byte limit`
        : `${what} is ${announced} bytes, over the ${limit}-byte limit`,
    );
    this.limit = limit;
    this.announced = announced;
  }
}

/**
 * Refuses, before anything is fetched, content whose descriptor or Content-Length already says it is over `limit`:
 * fetching it would only end in the same refusal, after the bytes were downloaded.
 */
export function refuseAnnouncedSize(what: string, announced: number | undefined, limit: number): void {
  if (announced !== undefined && announced > limit) throw new BodyTooLargeError(what, limit, announced);
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
