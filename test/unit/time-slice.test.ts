// Sliced loops take turns: one slice per turn of the event loop however many run, each waiting for its turn before
// its first slice, with other callbacks run between turns.
import { describe, expect, it } from 'vitest';
import { TimeSlice } from '../../daemon/time-slice.ts';

/** A loop of `units` units of work, each its own slice (budget 0), recording each unit in `log`. */
async function loop(name: string, units: number, log: string[]): Promise<void> {
  const slice = new TimeSlice(0);
  for (let i = 0; i < units; i++) {
    if (slice.spent()) await slice.next();
    log.push(name);
  }
}

describe('TimeSlice', () => {
  it('runs one slice per turn of the event loop, whatever number of loops run, with callbacks between', async () => {
    const log: string[] = [];
    let ticking = true;
    const tick = () => {
      log.push('turn');
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const loops = Promise.all([loop('a', 3, log), loop('b', 3, log), loop('c', 3, log)]);
    expect(log).toEqual([]);
    await loops;
    ticking = false;
    const units = log.filter((entry) => entry !== 'turn');
    expect(units.sort()).toEqual(['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'c']);
    // Between two turns of the ticker, one unit at most.
    const runs = log.join(' ').split('turn');
    for (const run of runs) expect(run.trim().split(' ').filter(Boolean).length).toBeLessThanOrEqual(1);
  });

  it('runs a slice to the end of its budget before letting other callbacks in', async () => {
    const log: string[] = [];
    const slice = new TimeSlice(60_000);
    await slice.next();
    setImmediate(() => log.push('other callback'));
    for (let i = 0; i < 1000; i++) {
      if (slice.spent()) await slice.next();
      log.push('unit');
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(log.indexOf('other callback')).toBe(1000);
  });
});
