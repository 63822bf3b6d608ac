// A body that arrives, but too slowly to ever finish (a byte every two seconds never trips an idle timeout), is
// cut when a whole window passes below the minimum rate. Windows in which the reader held the stream back (the
// disk is the slow side) do not count against the registry.

import { PassThrough, type Readable } from 'node:stream';
import { READ_BUFFER_BYTES } from '../../read-buffers.ts';
import { HeldFailure } from './held-failure.ts';

export interface TransferRate {
  /** Bytes per second a body must average over each window; 0 turns the check off. */
  minBytesPerSecond: number;
  windowMs: number;
}

/** The body stalled below the minimum rate: retryable, like a connection reset, since the retry resumes. */
export class TransferTooSlowError extends Error {
  override readonly name = 'TransferTooSlowError';
  readonly code = 'DOCKHAND_TRANSFER_TOO_SLOW';
}

/** The body as its reader sees it: a failure of the source reaches the reader after the bytes buffered here. */
class CountedBody extends PassThrough {
  readonly #held = new HeldFailure(this, () => this.readableLength === 0 && this.writableLength === 0);

  fail(error: Error): void {
    this.#held.fail(error);
  }

  override read(size?: number): unknown {
    const chunk = super.read(size);
    this.#held.afterRead();
    return chunk;
  }
}

/** Pipes `source` into `counted`; a reader that goes (or a cut) closes the source, as a pipeline does. */
function feed(source: Readable, counted: CountedBody): void {
  source.pipe(counted);
  source.once('error', (error) => counted.fail(error));
  counted.once('close', () => source.destroy());
  // The reader sees the error through its iterator or pipeline; until one attaches, nobody else need.
  counted.on('error', () => {});
}

export function watchTransferRate(body: AsyncIterable<Uint8Array>, rate: TransferRate): Readable {
  // Room for two of the largest chunks: with less, every chunk filled it, and the registry's connection was paused
  // and resumed once per chunk (1,741 pauses for 2,100 reads of a 537 MB pull at 128 KiB).
  const counted = new CountedBody({ highWaterMark: 2 * READ_BUFFER_BYTES });
  if (rate.minBytesPerSecond <= 0) {
    feed(body as Readable, counted);
    return counted;
  }
  let bytes = 0;
  let heldBack = false;
  counted.on('drain', () => {
    heldBack = true;
  });
  const source = body as Readable;
  const onData = (chunk: Uint8Array) => {
    bytes += chunk.length;
    if (counted.writableNeedDrain) heldBack = true;
  };
  const timer = setInterval(() => {
    const needed = (rate.minBytesPerSecond * rate.windowMs) / 1000;
    if (bytes < needed && !heldBack && !counted.writableNeedDrain) {
      counted.destroy(
        new TransferTooSlowError(
          `transfer slower than ${rate.minBytesPerSecond} bytes/s over ${rate.windowMs / 1000}s (${bytes} bytes)`,
        ),
      );
    }
    bytes = 0;
    heldBack = false;
  }, rate.windowMs);
  timer.unref();
  counted.once('close', () => clearInterval(timer));
  source.on('data', onData);
  feed(source, counted);
  return counted;
}
