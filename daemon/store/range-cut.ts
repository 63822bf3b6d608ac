// A response body cut where its range now ends. A range can be split while its response streams (another connection
// takes its second half), so the limit is asked for at each chunk; once it is reached the response is dropped.
// Chunks pass through as the body's 'data' events deliver them, with its backpressure: no promise per chunk.
import { Readable } from 'node:stream';
import { READ_BUFFER_BYTES } from '../read-buffers.ts';

export class RangeCut extends Readable {
  readonly #body: Readable;
  readonly #room: () => number;
  readonly #onBytes: (bytes: number) => void;
  #reached = false;

  /**
   * @param room bytes still wanted (the range's end minus what was received so far)
   * @param onBytes called with each chunk's length as it passes, before `room` is asked again
   */
  constructor(body: Readable, room: () => number, onBytes: (bytes: number) => void) {
    // Two of the largest chunks: room for one more while the reader takes one, no pause per chunk.
    super({ highWaterMark: 2 * READ_BUFFER_BYTES });
    this.#body = body;
    this.#room = room;
    this.#onBytes = onBytes;
    // Its reader sees a failure when it reads (an async iterator, or the ingest's own listener); one that comes
    // before the reader starts (a cancelled range while its file opens) must not be an uncaught exception.
    this.on('error', () => {});
    body.on('data', this.#onData);
    body.once('end', this.#onEnd);
    body.once('error', this.#onError);
    body.once('close', this.#onClose);
    body.pause();
    if (room() <= 0) this.#finish();
  }

  /** The body delivered every byte the range wanted (a body that ended sooner is short). */
  get reached(): boolean {
    return this.#reached;
  }

  override _read(): void {
    if (!this.#reached) this.#body.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#detach();
    this.#body.destroy();
    callback(error);
  }

  readonly #onData = (chunk: Buffer) => {
    const room = this.#room();
    const piece = chunk.byteLength > room ? chunk.subarray(0, Math.max(0, room)) : chunk;
    if (piece.byteLength > 0) {
      this.#onBytes(piece.byteLength);
      if (!this.push(piece)) this.#body.pause();
    }
    if (this.#room() <= 0) this.#finish();
  };

  readonly #onEnd = () => {
    this.#detach();
    this.push(null);
  };

  readonly #onError = (error: Error) => {
    this.#detach();
    this.destroy(error);
  };

  /** Destroyed without an error (its request aborted): the range did not arrive whole. */
  readonly #onClose = () => {
    this.#detach();
    this.destroy(new Error('the range body closed before its end'));
  };

  #finish(): void {
    this.#reached = true;
    this.#detach();
    this.push(null);
    this.#body.destroy();
  }

  #detach(): void {
    this.#body
      .off('data', this.#onData)
      .off('end', this.#onEnd)
      .off('error', this.#onError)
      .off('close', this.#onClose);
    // A destroyed body may still report the abort: nobody is listening for it any more.
    this.#body.on('error', () => {});
  }
}
