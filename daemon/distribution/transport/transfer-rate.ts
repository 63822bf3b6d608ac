// A body that arrives, but too slowly to ever finish (a byte every two seconds never trips an idle timeout), is
// cut when a whole window passes below the minimum rate. Windows in which the reader held the stream back (the
// disk is the slow side) do not count against the registry.

import type { Readable } from 'node:stream';
import { HeldTime } from '../../held-time.ts';
import { READ_BUFFER_BYTES } from '../../read-buffers.ts';
import { HeldBody } from './held-failure.ts';

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

/**
 * The body as its reader sees it: the source's chunks as they come, with the reader's backpressure, counted; a
 * failure of the source reaches the reader after the bytes buffered here, and a reader that goes (or a cut) closes
 * the source.
 */
class CountedBody extends HeldBody {
  readonly #source: Readable;
  /** Bytes since the window began. */
  bytes = 0;
  /** Time the reader held the body back: the disk, not the registry, was the slow side then. */
  readonly held = new HeldTime();

  constructor(source: Readable) {
    // Room for two of the largest chunks: with less, every chunk filled it, and the registry's connection was paused
    // and resumed once per chunk (1,741 pauses for 2,100 reads of a 537 MB pull at 128 KiB).
    super(2 * READ_BUFFER_BYTES);
    this.#source = source;
    source.on('data', (chunk: Uint8Array) => {
      this.bytes += chunk.length;
      if (this.push(chunk)) return;
      this.held.hold();
      source.pause();
    });
    source.once('end', () => this.push(null));
    source.once('error', (error) => this.fail(error));
    // The reader sees the error through its iterator or pipeline; until one attaches, nobody else need.
    this.on('error', () => {});
  }

  override _read(): void {
    this.held.release();
    this.#source.resume();
  }

  protected override abandon(): void {
    this.#source.destroy();
  }
}

export function watchTransferRate(body: AsyncIterable<Uint8Array>, rate: TransferRate): Readable {
  const counted = new CountedBody(body as Readable);
  if (rate.minBytesPerSecond <= 0) return counted;
  const timer = setInterval(() => {
    const needed = (rate.minBytesPerSecond * rate.windowMs) / 1000;
    // Held back at all in the window, or now: not the registry's slowness.
    const heldMs = counted.held.take();
    if (counted.bytes < needed && heldMs === 0) {
      counted.destroy(
        new TransferTooSlowError(
          `transfer slower than ${rate.minBytesPerSecond} bytes/s over ${rate.windowMs / 1000}s (${counted.bytes} bytes)`,
        ),
      );
    }
    counted.bytes = 0;
  }, rate.windowMs);
  timer.unref();
  counted.once('close', () => clearInterval(timer));
  return counted;
}
