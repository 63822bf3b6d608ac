// A stream's failure held back until its reader has every byte the stream holds. A blob's reader may attach after
// the connection failed (the store opens its file first); destroyed at once, the stream would drop the bytes that
// came before the reset, and the retry would fetch them again.
import { Readable } from 'node:stream';
import { READ_BUFFER_BYTES } from '../../read-buffers.ts';
import type { ResponseBody } from './round-trip.ts';

export class HeldFailure {
  readonly #stream: Readable;
  readonly #empty: () => boolean;
  #failure: Error | undefined;

  /** `empty`: the stream holds no byte its reader has not taken. */
  constructor(stream: Readable, empty: () => boolean) {
    this.#stream = stream;
    this.#empty = empty;
  }

  /** Destroys the stream with `error` now if it is empty, else once its reader emptied it. */
  fail(error: Error): void {
    if (this.#empty()) this.#stream.destroy(error);
    else this.#failure = error;
  }

  /** Called after each read() of the stream: every reader takes its bytes through it (iterators, pipe, flowing). */
  afterRead(): void {
    const failure = this.#failure;
    if (failure === undefined || !this.#empty()) return;
    this.#failure = undefined;
    process.nextTick(() => this.#stream.destroy(failure));
  }
}

/**
 * A response body read from a connection: it fails only once its reader took the bytes before the failure, and
 * destroying or dumping it lets the connection go (`abandon`).
 */
export abstract class HeldBody extends Readable implements ResponseBody {
  readonly #held = new HeldFailure(this, () => this.readableLength === 0);

  /**
   * A reader that keeps up takes each chunk as it is pushed; by default one that does not pauses the connection after
   * one (more would reach an iterating reader concatenated: a copy, and buffers never given back).
   */
  constructor(highWaterMark = READ_BUFFER_BYTES) {
    super({ highWaterMark });
  }

  /** The reader is gone: the connection need not deliver more. */
  protected abstract abandon(): void;

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.abandon();
    // A body can fail in the read that brought its head (a bad chunk right after it), before whoever awaits the
    // response could listen: the error waits a turn of the event loop rather than go uncaught (undici does so too).
    if (error && this.listenerCount('error') === 0) setImmediate(() => callback(error));
    else callback(error);
  }

  async dump(): Promise<void> {
    this.destroy();
  }

  /** Fails the body after the bytes that came before the failure. */
  fail(error: Error): void {
    this.#held.fail(error);
  }

  override read(size?: number): unknown {
    const chunk = super.read(size);
    this.#held.afterRead();
    return chunk;
  }
}
