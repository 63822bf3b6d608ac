// The JSON of a long array (GET /images/json: a summary per image), written in time slices instead of one
// JSON.stringify: the bytes are the same, but other requests run between slices, and no string as large as the whole
// answer is made (such strings go straight to V8's large-object space and cost full collections).
import { Readable } from 'node:stream';
import { TimeSlice } from '../time-slice.ts';

/** An encoded answer: its bytes in a few chunks, and their total length for Content-Length. */
export interface JsonBody {
  readonly chunks: readonly Buffer[];
  readonly length: number;
}

/** Items serialized together between two checks of the slice's time (a summary is about 300 bytes). */
const BATCH_ITEMS = 32;
/** Bytes per chunk (one socket write): text is written straight into it, with no intermediate buffer. */
const CHUNK_BYTES = 64 * 1024;

/** Exactly `JSON.stringify(items.map(shape))`, encoded in slices; `shape` defaults to the item itself. */
export async function encodeJsonArray<T>(
  items: readonly T[],
  shape?: (item: T) => unknown,
  slice: TimeSlice = new TimeSlice(),
): Promise<JsonBody> {
  const out = new ChunkWriter();
  out.write('[');
  for (let start = 0; start < items.length; start += BATCH_ITEMS) {
    if (slice.spent()) await slice.next();
    const batch = items.slice(start, start + BATCH_ITEMS);
    const text = JSON.stringify(shape ? batch.map(shape) : batch);
    // The batch's elements without its brackets, after a comma when a batch came before.
    if (start > 0) out.write(',');
    out.write(text.slice(1, -1));
  }
  out.write(']');
  return out.done();
}

class ChunkWriter {
  readonly #chunks: Buffer[] = [];
  #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #used = 0;
  #length = 0;

  write(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (bytes > this.#chunk.length - this.#used) {
      this.#close();
      this.#chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    }
    this.#used += this.#chunk.write(text, this.#used);
  }

  done(): JsonBody {
    this.#close();
    return { chunks: this.#chunks, length: this.#length };
  }

  #close(): void {
    if (this.#used === 0) return;
    this.#chunks.push(this.#chunk.subarray(0, this.#used));
    this.#length += this.#used;
    this.#used = 0;
  }
}

/** The payload fastify sends for a body (a single chunk as is); the caller sets Content-Length from `length`. */
export function bodyPayload(body: JsonBody): Buffer | Readable {
  return body.chunks.length === 1 ? (body.chunks[0] as Buffer) : Readable.from(body.chunks);
}

/**
 * The engine hands back the same array until what it lists changes (see daemon/images/image-listing.ts): each array
 * is encoded once, and requests that arrive while it is being encoded wait for that encoding. One per shape.
 */
export class JsonArrayBodies<T> {
  readonly #bodies = new WeakMap<readonly T[], Promise<JsonBody>>();
  readonly #shape: ((item: T) => unknown) | undefined;

  constructor(shape?: (item: T) => unknown) {
    this.#shape = shape;
  }

  of(items: readonly T[]): Promise<JsonBody> {
    let body = this.#bodies.get(items);
    if (!body) {
      body = encodeJsonArray(items, this.#shape);
      this.#bodies.set(items, body);
    }
    return body;
  }
}
