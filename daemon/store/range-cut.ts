// A response body cut after the bytes its request asked for: a registry may send more. Once they came the response
// is dropped.
// Chunks pass through as the body's 'data' events deliver them, with its backpressure: no promise per chunk.
import { Readable } from 'node:stream';
import { HeldTime } from '../held-time.ts';
import { READ_BUFFER_BYTES } from '../read-buffers.ts';
import type { BlobHash } from './blob-hash.ts';
import {
  isSinkable,
  type SinkableBody,
  type SinkControl,
  type SinkResult,
  type SinkTarget,
} from './body-sink.ts';

export class RangeCut extends Readable implements SinkableBody {
  readonly #body: Readable;
  /** Bytes the request asked for; the body is cut after them. */
  readonly #length: number;
  /** Bytes passed on so far. */
  #passed = 0;
  readonly #onBytes: (bytes: number) => void;
  readonly #onHeldBack: (ms: number) => void;
  readonly #heldTime = new HeldTime();
  #reached = false;
  /** Read as a stream, or sunk: the body's bytes are taken one way only. */
  #taken = false;

  /**
   * @param length bytes the request asked for
   * @param onBytes called with each chunk's length as it passes
   * @param onHeldBack called with how long the body was kept paused on this side (its reader, or the disk)
   *   each time it flows again (SinkControl.onHeldBack)
   */
  constructor(
    body: Readable,
    length: number,
    onBytes: (bytes: number) => void,
    onHeldBack: (ms: number) => void,
  ) {
    // Two of the largest chunks: room for one more while the reader takes one, no pause per chunk.
    super({ highWaterMark: 2 * READ_BUFFER_BYTES });
    this.#body = body;
    this.#length = length;
    this.#onBytes = onBytes;
    this.#onHeldBack = onHeldBack;
    // Its reader sees a failure when it reads (an async iterator, or the ingest's own listener); one that comes
    // before the reader starts (a cancelled range while its file opens) must not be an uncaught exception.
    this.on('error', () => {});
    body.once('error', this.#onError);
    body.once('close', this.#onClose);
    if (length <= 0) this.#finish();
  }

  /** The body delivered every byte the request asked for (a body that ended sooner is short). */
  get reached(): boolean {
    return this.#reached;
  }

  override _read(): void {
    if (this.#reached) return;
    if (!this.#taken) {
      // Attached at the first read, not before: a body that can sink (body-sink.ts) must not start streaming.
      this.#taken = true;
      this.#body.on('data', this.#onData).once('end', this.#onEnd);
    }
    this.#heldTime.release();
    const held = this.#heldTime.take();
    if (held > 0) this.#onHeldBack(held);
    this.#body.resume();
  }

  canSink(hash: BlobHash | undefined): boolean {
    return !this.#taken && !this.#reached && isSinkable(this.#body) && this.#body.canSink(hash);
  }

  /** The body sinks itself, cut where the range ends. */
  async sinkTo(target: SinkTarget, control: SinkControl): Promise<SinkResult> {
    this.#taken = true;
    this.#detach();
    const result = await (this.#body as Readable & SinkableBody).sinkTo(target, {
      ...control,
      room: Math.min(this.#length - this.#passed, control.room),
      onBytes: (bytes) => {
        this.#passed += bytes;
        this.#onBytes(bytes);
        control.onBytes(bytes);
      },
      cut: true,
      onHeldBack: (ms) => {
        this.#onHeldBack(ms);
        control.onHeldBack?.(ms);
      },
    });
    if (this.#passed >= this.#length) this.#reached = true;
    return result;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#detach();
    this.#body.destroy();
    callback(error);
  }

  readonly #onData = (chunk: Buffer) => {
    const room = this.#length - this.#passed;
    const piece = chunk.byteLength > room ? chunk.subarray(0, Math.max(0, room)) : chunk;
    if (piece.byteLength > 0) {
      this.#passed += piece.byteLength;
      this.#onBytes(piece.byteLength);
      if (!this.push(piece)) {
        this.#body.pause();
        this.#heldTime.hold();
      }
    }
    if (this.#passed >= this.#length) this.#finish();
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
