// The sliced JSON encoder of long lists: the bytes of JSON.stringify, other callbacks run while a long list is
// encoded, one encoding per array and one serialization per item.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { encodeJsonArray, JsonArrayBodies } from '../../../daemon/server/json-array-body.ts';
import { checkAsyncProperty } from '../../helpers/property.ts';

const bytesOf = (items: readonly unknown[]) => encodeJsonArray(items);

/** A summary-like item whose labels hold text outside ASCII (two-, three- and four-byte UTF-8). */
const item = (i: number) => ({
  Id: `sha256:${i.toString(16).padStart(64, '0')}`,
  RepoTags: [`registry.example/app:v${i}`],
  Size: i * 1000,
  Labels: { note: `é ✓ 😀 "quoted" \\ ${'x'.repeat(i % 50)}`, '\u2028': '\u0000' },
});

describe('encodeJsonArray', () => {
  it('writes the bytes JSON.stringify writes, for any array of JSON values', async () => {
    await checkAsyncProperty(
      fc.asyncProperty(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 200 }), async (items) => {
        expect((await bytesOf(items)).toString()).toBe(JSON.stringify(items));
      }),
      { numRuns: 200 },
    );
  });

  it('writes the same bytes for a long list, and for an empty list', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => item(i));
    expect((await encodeJsonArray(items)).equals(Buffer.from(JSON.stringify(items)))).toBe(true);
    expect((await bytesOf([])).toString()).toBe('[]');
    expect((await bytesOf([item(1)])).toString()).toBe(JSON.stringify([item(1)]));
  });

  it('lets callbacks scheduled meanwhile run before a long list is encoded', async () => {
    const items = Array.from({ length: 20_000 }, (_, i) => item(i));
    const order: string[] = [];
    const encoded = encodeJsonArray(items).then(() => order.push('encoded'));
    setImmediate(() => order.push('other callback'));
    await encoded;
    expect(order).toEqual(['other callback', 'encoded']);
  });
});

describe('JsonArrayBodies', () => {
  it('encodes each array once, and another array (the list changed) again', async () => {
    const bodies = new JsonArrayBodies<{ a: number }>();
    const list = [{ a: 1 }];
    const first = bodies.of(list);
    expect(bodies.of(list)).toBe(first);
    const other = bodies.of([{ a: 2 }]);
    expect(other).not.toBe(first);
    expect((await other).toString()).toBe('[{"a":2}]');
  });

  it('serializes each item once, in the shape of the instance, for every array it appears in', async () => {
    const shape = (i: ReturnType<typeof item>) => ({ ...i, VirtualSize: i.Size });
    const bodies = new JsonArrayBodies(shape);
    const items = Array.from({ length: 3000 }, (_, i) => item(i));
    expect((await bodies.of(items)).toString()).toBe(JSON.stringify(items.map(shape)));
    const serialized = vi.spyOn(JSON, 'stringify');
    try {
      const some = items.filter((_, i) => i % 3 === 0);
      expect((await bodies.of(some)).toString()).toBe(JSON.stringify(some.map(shape)));
      // The one call above: the items' JSON was kept from the first array.
      expect(serialized).toHaveBeenCalledTimes(1);
    } finally {
      serialized.mockRestore();
    }
  });
});
