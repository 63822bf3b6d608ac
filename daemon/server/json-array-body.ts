// The JSON of a long array (GET /images/json: a summary per image), written in time slices instead of one
// JSON.stringify: the bytes are the same, but other requests run between slices, and no string as large as the whole
// answer is made (such strings go straight to V8's large-object space and cost full collections). Each item's JSON is
// kept as long as the item: the engine hands back the same summaries in every answer until the images change, so a
// filtered list copies bytes instead of serializing again.
import { Readable } from 'node:stream';
import { TimeSlice } from '../time-slice.ts';

/** An encoded answer: its bytes in a few chunks, and their total length for Content-Length. */
export interface JsonBody {
  readonly chunks: readonly Buffer[];
  readonly length: number;
}

/** Items written between two checks of the slice's time. */
const CHECK_EVERY = 16;
/** Bytes per chunk (one socket write): items are copied straight into it. */
const CHUNK_BYTES = 64 * 1024;
const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

/**
 * Exactly `JSON.stringify(items)`, encoded in slices. `element(item)` is `,` then `JSON.stringify(item)`, as bytes:
 * the comma that comes before every item but the first.
 */
export async function encodeJsonArray<T>(
  items: readonly T[],
  element: (item: T) => Buffer = (item) => Buffer.from(`,${JSON.stringify(item)}`),
  slice: TimeSlice = new TimeSlice(),
): Promise<JsonBody> {
  const out = new ChunkWriter();
  out.write(OPEN);
  for (let i = 0; i < items.length; i++) {
    if (i % CHECK_EVERY === 0 && slice.spent()) await slice.next();
    const bytes = element(items[i] as T);
    out.write(i === 0 ? bytes.subarray(1) : bytes);
  }
  out.write(CLOSE);
  return out.done();
}

class ChunkWriter {
  readonly #chunks: Buffer[] = [];
  #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #used = 0;
  #length = 0;

  write(bytes: Buffer): void {
    if (bytes.length > this.#chunk.length - this.#used) {
      this.#close();
      this.#chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes.length));
    }
    // TypedArray's set: Buffer's copy would make a view of the source on every call.
    this.#chunk.set(bytes, this.#used);
    this.#used += bytes.length;
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
 * The engine hands back the same array, made of the same items, until what it lists changes (see
 * daemon/images/image-listing.ts): each array is encoded once, requests that arrive while it is being encoded wait
 * for that encoding, and each item is serialized once. One per shape.
 */
export class JsonArrayBodies<T extends object> {
  readonly #bodies = new WeakMap<readonly T[], Promise<JsonBody>>();
  readonly #elements = new WeakMap<T, Buffer>();
  readonly #element: (item: T) => Buffer;

  constructor(shape: (item: T) => unknown = (item) => item) {
    this.#element = (item) => {
      let element = this.#elements.get(item);
      if (!element) {
        element = Buffer.from(`,${JSON.stringify(shape(item))}`);
        this.#elements.set(item, element);
      }
      return element;
    };
  }

  of(items: readonly T[]): Promise<JsonBody> {
    let body = this.#bodies.get(items);
    if (!body) {
      body = encodeJsonArray(items, this.#element);
      this.#bodies.set(items, body);
    }
    return body;
  }
}
