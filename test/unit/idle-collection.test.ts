// The daemon collects its garbage once its operations are over and none ran for a while: never while one runs, once
// per quiet spell, and with V8's own collector.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleCollection, majorCollection } from '../../daemon/idle-collection.ts';

describe('IdleCollection', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function counting() {
    let collections = 0;
    const idle = new IdleCollection(3000, async () => {
      collections++;
    });
    return { idle, collections: () => collections };
  }

  it('collects once, the delay after the last operation ended', () => {
    const { idle, collections } = counting();
    idle.began();
    idle.began();
    idle.ended();
    vi.advanceTimersByTime(10_000);
    expect(collections()).toBe(0);
    idle.ended();
    vi.advanceTimersByTime(2999);
    expect(collections()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(collections()).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(collections()).toBe(1);
  });

  it('does not collect when another operation began within the delay', () => {
    const { idle, collections } = counting();
    idle.began();
    idle.ended();
    vi.advanceTimersByTime(2000);
    idle.began();
    vi.advanceTimersByTime(5000);
    expect(collections()).toBe(0);
    idle.ended();
    vi.advanceTimersByTime(3000);
    expect(collections()).toBe(1);
  });
});

it("runs a major collection with V8's collector", async () => {
  let collected = false;
  const registry = new FinalizationRegistry(() => {
    collected = true;
  });
  registry.register({ unreachable: new Array(1000).fill(0) }, undefined);
  await majorCollection();
  // The registry's callbacks run in a task of their own after the collection.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(collected).toBe(true);
});
