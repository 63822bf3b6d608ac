// When our side sets the pace of the transfers (a reader held back, a busy loop), so that more connections cannot help.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { blobThread } from '../../../daemon/blob-thread/blob-thread.ts';
import { ConnectionGrowth } from '../../../daemon/store/connection-growth.ts';

/** Keeps the event loop busy for `ms`. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('connection growth', () => {
  it('counts our side as the bottleneck while a transfer was held back a good share of the time', async () => {
    const growth = new ConnectionGrowth();
    const transfers = [growth.track(), growth.track()];
    // Until the loop's load was measured over one window, it counts as busy.
    expect(growth.ourSideBound).toBe(true);
    await sleep(250);
    expect(growth.ourSideBound).toBe(false);
    expect(growth.canBegin).toBe(true);

    // Short waits for the disk: the registry still sets the pace.
    await sleep(250);
    for (const transfer of transfers) transfer.heldBack(25);
    expect(growth.ourSideBound).toBe(false);
    // One of them held back most of a window: its buffers fill, whatever the other does.
    await sleep(250);
    transfers[0]?.heldBack(200);
    expect(growth.ourSideBound).toBe(true);
    expect(growth.canBegin).toBe(false);
    await sleep(250);
    expect(growth.ourSideBound).toBe(false);
    for (const transfer of transfers) transfer.close();
  });

  it('counts our side as the bottleneck while the loop that reads the bodies is busy', async () => {
    const growth = new ConnectionGrowth();
    const transfer = growth.track();
    await sleep(250);
    expect(growth.ourSideBound).toBe(false);
    spin(300);
    expect(growth.ourSideBound).toBe(true);
    transfer.close();
  });

  it('counts the blob thread busy until its load was measured over a window', async () => {
    const thread = blobThread();
    const id = thread.join({ answer: () => {}, fail: () => {} });
    try {
      // Until the thread is up and idle (it compiles its modules first).
      const load = thread.load();
      for (let busy = 1; busy > 0.1; busy = load.take()) await sleep(200);
      const growth = new ConnectionGrowth();
      const transfer = growth.track();
      await sleep(250);
      expect(growth.ourSideBound).toBe(true);
      await sleep(250);
      expect(growth.ourSideBound).toBe(false);
      transfer.close();
    } finally {
      thread.leave(id);
    }
  });
});
