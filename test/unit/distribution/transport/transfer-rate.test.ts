// transfer-rate.ts: a body trickled below the minimum rate is cut; a body held back by its reader is not.
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  TransferTooSlowError,
  watchTransferRate,
} from '../../../../daemon/distribution/transport/transfer-rate.ts';

function trickle(bytesPerTick: number, tickMs: number, ticks: number): Readable {
  const out = new PassThrough();
  let n = 0;
  const timer = setInterval(() => {
    out.write(Buffer.alloc(bytesPerTick));
    if (++n === ticks) {
      clearInterval(timer);
      out.end();
    }
  }, tickMs);
  out.once('close', () => clearInterval(timer));
  return out;
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const chunk of body) total += chunk.length;
  return total;
}

describe('minimum transfer rate', () => {
  it('cuts a body below the rate over a whole window', async () => {
    const body = watchTransferRate(trickle(1, 50, 100), { minBytesPerSecond: 100, windowMs: 300 });
    await expect(drain(body)).rejects.toBeInstanceOf(TransferTooSlowError);
  });

  it('lets a body at the rate through, and 0 turns the check off', async () => {
    expect(
      await drain(watchTransferRate(trickle(100, 20, 20), { minBytesPerSecond: 1000, windowMs: 200 })),
    ).toBe(2000);
    expect(await drain(watchTransferRate(trickle(1, 20, 20), { minBytesPerSecond: 0, windowMs: 100 }))).toBe(
      20,
    );
  });

  it('does not count a window in which the reader held the body back', async () => {
    const body = watchTransferRate(Readable.from([Buffer.alloc(1 << 20), Buffer.alloc(1 << 20)]), {
      minBytesPerSecond: 1_000_000_000,
      windowMs: 100,
    });
    await new Promise((r) => setTimeout(r, 350));
    expect(await drain(body)).toBe(2 << 20);
  });
});
