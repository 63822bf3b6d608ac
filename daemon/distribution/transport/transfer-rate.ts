// A body that arrives, but too slowly to ever finish (a byte every two seconds never trips an idle timeout), is
// cut when a whole window passes below the minimum rate. Windows in which the reader held the stream back (the
// disk is the slow side) do not count against the registry.

import { PassThrough, pipeline, type Readable } from 'node:stream';
import { READ_BUFFER_BYTES } from '../../read-buffers.ts';

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

export function watchTransferRate(body: AsyncIterable<Uint8Array>, rate: TransferRate): Readable {
  // Room for two of the largest chunks: with less, every chunk filled it, and the registry's connection was paused
  // and resumed once per chunk (1,741 pauses for 2,100 reads of a 537 MB pull at 128 KiB).
  const counted = new PassThrough({ highWaterMark: 2 * READ_BUFFER_BYTES });
  if (rate.minBytesPerSecond <= 0) {
    pipeline(body as Readable, counted, () => {});
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
  pipeline(source, counted, () => clearInterval(timer));
  return counted;
}
