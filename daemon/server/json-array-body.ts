// The JSON of a long array (GET /images/json: a summary per image), written in time slices instead of one
// JSON.stringify: the bytes are the same, but other requests run between slices, and no string as large as the whole
// answer is made (such strings go straight to V8's large-object space and cost full collections). Each item's JSON is
// kept as long as the item: the engine hands back the same summaries in every answer until the images change, so a
// filtered list copies bytes instead of serializing again.
import { TimeSlice } from '../time-slice.ts';

/** Items handled between two checks of the slice's time. */
const CHECK_EVERY = 16;
const OPEN = 0x5b;
const CLOSE = 0x5d;

/**
 * Exactly `JSON.stringify(items)` as bytes, in one buffer of the exact size (sent with a Content-Length, in one
 * write), made in slices. `element(item)` is `,` then `JSON.stringify(item)`: the comma that comes before every
 * item but the first.
 */
export async function encodeJsonArray<T>(
  items: readonly T[],
  element: (item: T) => Buffer = (item) => Buffer.from(`,${JSON.stringify(item)}`),
  slice: TimeSlice = new TimeSlice(),
): Promise<Buffer> {
  const elements: Buffer[] = [];
  // The brackets, less the first item's comma.
  let length = items.length > 0 ? 1 : 2;
  for (let i = 0; i < items.length; i++) {
    if (i % CHECK_EVERY === 0 && slice.spent()) await slice.next();
    const bytes = element(items[i] as T);
    elements.push(bytes);
    length += bytes.length;
  }
  const body = Buffer.allocUnsafe(length);
  body[0] = OPEN;
  let at = 1;
  for (let i = 0; i < elements.length; i++) {
    if (i % CHECK_EVERY === 0 && slice.spent()) await slice.next();
    const bytes = elements[i] as Buffer;
    // TypedArray's set: Buffer's copy would make a view of the source on every call.
    body.set(i === 0 ? bytes.subarray(1) : bytes, at);
    at += i === 0 ? bytes.length - 1 : bytes.length;
  }
  body[at] = CLOSE;
  return body;
}

/**
 * The engine hands back the same array, made of the same items, until what it lists changes (see
 * daemon/images/image-listing.ts): each array is encoded once, requests that arrive while it is being encoded wait
 * for that encoding, and each item is serialized once. One per shape.
 */
export class JsonArrayBodies<T extends object> {
  readonly #bodies = new WeakMap<readonly T[], Promise<Buffer>>();
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

  of(items: readonly T[]): Promise<Buffer> {
    let body = this.#bodies.get(items);
    if (!body) {
      body = encodeJsonArray(items, this.#element);
      this.#bodies.set(items, body);
    }
    return body;
  }
}
