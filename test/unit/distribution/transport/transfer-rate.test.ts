// transfer-rate.ts: a body trickled below the minimum rate is cut; a body held back by its reader is not.
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
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

describe('a body that fails', () => {
  /** Three chunks, then a reset: the error comes once the chunks were taken, as the bulk wire's body gives it. */
  function cutAfter(chunks: Buffer[]): Readable {
    let next = 0;
    return new Readable({
      read() {
        const chunk = chunks[next++];
        if (chunk) this.push(chunk);
        else this.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
      },
    });
  }

  it.each([0, 1000])(
    'gives a reader that comes late the bytes before the failure, then the error (minimum rate %i)',
    async (minBytesPerSecond) => {
      const chunks = [Buffer.alloc(100_000, 1), Buffer.alloc(100_000, 2), Buffer.alloc(100_000, 3)];
      const body = watchTransferRate(cutAfter(chunks), { minBytesPerSecond, windowMs: 60_000 });
      // The store opens its file before it reads: the failure has come by then.
      await delay(50);
      const received: Buffer[] = [];
      const error = await (async () => {
        try {
          for await (const chunk of body) received.push(chunk as Buffer);
        } catch (failure) {
          return failure;
        }
      })();
      expect((error as { code?: string } | undefined)?.code).toBe('ECONNRESET');
      expect(Buffer.concat(received).equals(Buffer.concat(chunks))).toBe(true);
    },
  );
});
