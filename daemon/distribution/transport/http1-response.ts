// An HTTP/1.1 response as the wire reads it (RFC 9112): the head parsed into a status and headers, then the
// body's framing. Everything here is the registry's input, so every part is bounded and every deviation an error:
// a head over MAX_HEAD_BYTES, a header line that is not `token: value`, a Content-Length that is not one decimal
// number, a transfer coding other than chunked, a chunk-size line over 1 KiB. Body bytes are never copied: the
// decoder hands out views of the buffer the socket read into.

/** The registry's answer broke HTTP/1.1: not retried, as undici's parser errors are not. */
export class MalformedResponseError extends Error {
  override readonly name = 'MalformedResponseError';
  readonly code = 'DOCKHAND_MALFORMED_RESPONSE';
}

/** Status line and header fields together; undici's default is 16 KiB, CDNs' cookies need more room. */
export const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE_BYTES = 1024;

export interface ResponseHead {
  statusCode: number;
  /** Names in lower case; a name sent more than once gives an array in order (undici's shape). */
  headers: Record<string, string | string[]>;
  /** HTTP/1.1 without `Connection: close`: the connection may carry the next request once this response ended. */
  persistent: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible characters, spaces, tabs and obs-text; no other control character.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** A header name (a token) and value (no line break, no control character) fit to send or to accept. */
export function isFieldName(text: string): boolean {
  return TOKEN.test(text);
}

export function isFieldValue(text: string): boolean {
  return FIELD_VALUE.test(text);
}
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;

/** Parses the bytes of a head up to (not including) its closing empty line. */
export function parseHead(bytes: Buffer): ResponseHead {
  const lines = bytes.toString('latin1').split('\r\n');
  const status = STATUS_LINE.exec(lines[0] ?? '');
  if (!status) throw new MalformedResponseError(`bad status line ${JSON.stringify(lines[0]?.slice(0, 64))}`);
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) {
      throw new MalformedResponseError(`bad header line ${JSON.stringify(line.slice(0, 64))}`);
    }
    const value = line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, '');
    if (!FIELD_VALUE.test(value)) throw new MalformedResponseError(`bad value of header ${name}`);
    // Values stay latin1, one character per byte, as undici gives them: a forwarded challenge keeps its bytes,
    // whichever wire it came over.
    const key = name.toLowerCase();
    const seen = headers[key];
    if (seen === undefined) headers[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[key] = [seen, value];
  }
  const connection = [headers.connection ?? []].flat().join(',').toLowerCase().split(',');
  const persistent = status[1] === '1' && !connection.some((option) => option.trim() === 'close');
  return { statusCode: Number(status[2]), headers, persistent };
}

/** How the body ends: after `length` bytes, after the last chunk, when the connection closes, or at once. */
export type Framing =
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'close' }
  | { kind: 'none' };

/** The framing of a response to a GET (RFC 9112 §6.3). */
export function framingOf(head: ResponseHead): Framing {
  const { statusCode, headers } = head;
  if (statusCode === 204 || statusCode === 304) return { kind: 'none' };
  const coding = headers['transfer-encoding'];
  if (coding !== undefined) {
    const codings = [coding]
      .flat()
      .join(',')
      .split(',')
      .map((c) => c.trim().toLowerCase())
      .filter((c) => c !== '');
    if (codings.length !== 1 || codings[0] !== 'chunked') {
      throw new MalformedResponseError(`unsupported Transfer-Encoding ${JSON.stringify(String(coding))}`);
    }
    // A Content-Length beside chunked is ignored (RFC 9112 §6.3 item 3); the connection is not reused anyway.
    return { kind: 'chunked' };
  }
  const length = headers['content-length'];
  if (length === undefined) return { kind: 'close' };
  const values = new Set([length].flat().flatMap((v) => v.split(',').map((s) => s.trim())));
  const [only] = values;
  if (values.size !== 1 || only === undefined || !/^\d{1,15}$/.test(only)) {
    throw new MalformedResponseError(`bad Content-Length ${JSON.stringify(String(length))}`);
  }
  return Number(only) === 0 ? { kind: 'none' } : { kind: 'length', length: Number(only) };
}

/**
 * Takes a chunked body apart as it arrives, in any split: `push` gives the data of each chunk (views of `input`, never
 * empty: the pool's buffers are found again by a chunk's first byte, read-buffers.ts) to `emit` and returns true once the last chunk and its trailer section have passed. Bytes after that are an error.
 */
export class ChunkedDecoder {
  #state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  #line = '';
  #left = 0;
  #trailerBytes = 0;

  push(input: Buffer, emit: (view: Buffer) => void): boolean {
    let at = 0;
    while (at < input.length) {
      switch (this.#state) {
        case 'size':
        case 'data-end':
        case 'trailer': {
          const eol = input.indexOf(10, at);
          const end = eol < 0 ? input.length : eol + 1;
          this.#line += input.toString('latin1', at, end);
          if (this.#state === 'trailer') this.#trailerBytes += end - at;
          at = end;
          const tooLong =
            this.#state === 'trailer'
              ? this.#trailerBytes > MAX_HEAD_BYTES
              : this.#line.length > MAX_CHUNK_LINE_BYTES;
          if (tooLong) {
            throw new MalformedResponseError('a chunk line or the trailers are too long');
          }
          if (eol < 0) break;
          const line = this.#line;
          this.#line = '';
          this.#onLine(line);
          break;
        }
        case 'data': {
          const n = Math.min(this.#left, input.length - at);
          emit(input.subarray(at, at + n));
          at += n;
          this.#left -= n;
          if (this.#left === 0) this.#state = 'data-end';
          break;
        }
        case 'done':
          throw new MalformedResponseError('bytes after the last chunk');
      }
    }
    return this.#state === 'done';
  }

  #onLine(line: string): void {
    if (!line.endsWith('\r\n')) throw new MalformedResponseError('a chunk line does not end with CRLF');
    const text = line.slice(0, -2);
    if (this.#state === 'data-end') {
      if (text !== '') throw new MalformedResponseError('chunk data longer than its size');
      this.#state = 'size';
      return;
    }
    if (this.#state === 'trailer') {
      if (text === '') this.#state = 'done';
      return;
    }
    const size = /^([0-9a-fA-F]{1,12})[\t ]*(?:;.*)?$/.exec(text);
    if (!size) throw new MalformedResponseError(`bad chunk size ${JSON.stringify(text.slice(0, 32))}`);
    this.#left = Number.parseInt(size[1] as string, 16);
    this.#state = this.#left === 0 ? 'trailer' : 'data';
  }
}
