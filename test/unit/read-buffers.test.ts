// read-buffers.ts: a buffer is read into again only once every chunk lent out of it came back.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { giveBack, ReadBuffers } from '../../daemon/read-buffers.ts';

describe('ReadBuffers', () => {
  it('hands out buffers of its size, new ones while none came back', () => {
    const pool = new ReadBuffers(1024, 4);
    const a = pool.take();
    const b = pool.take();
    expect(a.length).toBe(1024);
    expect(a.buffer).not.toBe(b.buffer);
  });

  it('cuts buffers from a slab, one after the other, then hands out lone ones', () => {
    const pool = new ReadBuffers(64, 4, 3);
    const cut = [pool.take(), pool.take(), pool.take()];
    expect(new Set(cut.map((b) => b.buffer)).size).toBe(1);
    expect(cut.map((b) => b.byteOffset)).toEqual([0, 64, 128]);
    const lone = pool.take();
    expect(lone.buffer).not.toBe(cut[0]?.buffer);
    expect(lone.buffer.byteLength).toBe(64);
  });

  it('settles the loan of the slab buffer a chunk lies in, and no other', () => {
    const pool = new ReadBuffers(64, 4, 4);
    const [a, b] = [pool.take(), pool.take()];
    pool.lend(a, 1);
    pool.lend(b, 2);
    // b's first chunk starts where a ends; an empty chunk at that border is ignored.
    giveBack(b.subarray(0, 0));
    giveBack(b.subarray(0, 10));
    expect(pool.take().byteOffset).toBe(128);
    giveBack(a.subarray(60, 64));
    expect(pool.take()).toBe(a);
    giveBack(b.subarray(10, 64));
    expect(pool.take()).toBe(b);
  });

  it('keeps every slab buffer given back, and lets a dropped slab go with its buffers', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const pool = new ReadBuffers(64, 1, 4);
      const out = [pool.take(), pool.take(), pool.take()];
      for (const buffer of out.slice(0, 2)) pool.put(buffer);
      expect([pool.take(), pool.take()]).toEqual([out[1], out[0]]);
      pool.put(out[0] as Buffer);
      pool.put(out[1] as Buffer);
      vi.advanceTimersByTime(2100);
      // The pool went idle and let its slab go: a buffer of it still out is not taken back.
      pool.put(out[2] as Buffer);
      const fresh = pool.take();
      expect(fresh.buffer).not.toBe(out[2]?.buffer);
      expect(fresh.byteOffset).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reuses a buffer only after every view lent out of it was given back', () => {
    const pool = new ReadBuffers(64, 4);
    const buffer = pool.take();
    const views = [buffer.subarray(0, 10), buffer.subarray(10, 20), buffer.subarray(20, 64)];
    pool.lend(buffer, views.length);
    giveBack(views[0] as Buffer);
    giveBack(views[2] as Buffer);
    expect(pool.take()).not.toBe(buffer);
    giveBack(views[1] as Buffer);
    expect(pool.take()).toBe(buffer);
    expect(pool.take()).not.toBe(buffer);
  });

  it('never reuses a buffer with a view out, however long it waits', async () => {
    const pool = new ReadBuffers(64, 4);
    const buffer = pool.take();
    pool.lend(buffer, 2);
    giveBack(buffer.subarray(0, 1));
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (let i = 0; i < 8; i++) expect(pool.take()).not.toBe(buffer);
  });

  it('takes a buffer lent with no views back at once', () => {
    const pool = new ReadBuffers(64, 4);
    const buffer = pool.take();
    pool.lend(buffer, 0);
    expect(pool.take()).toBe(buffer);
  });

  it('ignores chunks of buffers no pool lent, and of a loan already settled', () => {
    const pool = new ReadBuffers(64, 4);
    giveBack(Buffer.alloc(64));
    giveBack(new Uint8Array(8));
    const fresh = pool.take();
    expect(fresh.length).toBe(64);
    const buffer = pool.take();
    pool.lend(buffer, 1);
    giveBack(buffer.subarray(0, 8));
    expect(pool.take()).toBe(buffer);
    // The buffer is out again (taken, not lent): a late chunk of the old loan must not put it back.
    giveBack(buffer.subarray(0, 8));
    expect(pool.take()).not.toBe(buffer);
  });

  it('keeps at most maxFree buffers waiting, dropping the rest', () => {
    const pool = new ReadBuffers(64, 2);
    const taken = [pool.take(), pool.take(), pool.take()];
    for (const buffer of taken) pool.put(buffer);
    const again = [pool.take(), pool.take(), pool.take()];
    expect(again.filter((b) => taken.includes(b))).toHaveLength(2);
  });

  it('gives each buffer back to the pool that lent it', () => {
    const one = new ReadBuffers(64, 2);
    const two = new ReadBuffers(64, 2);
    const buffer = one.take();
    one.lend(buffer, 1);
    giveBack(buffer.subarray(5));
    expect(two.take()).not.toBe(buffer);
    expect(one.take()).toBe(buffer);
  });

  describe('when idle', () => {
    afterEach(() => vi.useRealTimers());

    it('drops the free buffers once none was taken for 2 s, and keeps them while buffers are taken', () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      const pool = new ReadBuffers(64, 4);
      const buffer = pool.take();
      pool.put(buffer);
      vi.advanceTimersByTime(1500);
      expect(pool.take()).toBe(buffer);
      pool.put(buffer);
      // 2.5 s after the first put, 1 s after the last take: kept.
      vi.advanceTimersByTime(1000);
      expect(pool.take()).toBe(buffer);
      pool.put(buffer);
      vi.advanceTimersByTime(2100);
      expect(pool.take()).not.toBe(buffer);
    });
  });
});
