import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBoolParam } from '../../../api-spec/bool-param.ts';
import { formatMessageLine, parseJsonLines } from '../../../api-spec/json-message.ts';

async function* chunks(parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

async function collect(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('JSON message stream', () => {
  it('survives any chunk split, multi-byte characters included', async () => {
    const messages = [
      { status: 'Pulling from small', id: '1' },
      { status: 'é ✓ 漢' },
      { error: 'x', errorDetail: {} },
    ];
    const text = messages.map(formatMessageLine).join('');
    const bytes = Buffer.from(text);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 8 }),
        async (cuts) => {
          const sorted = [...new Set(cuts)].sort((a, b) => a - b);
          const parts: Uint8Array[] = [];
          let prev = 0;
          for (const c of [...sorted, bytes.length]) {
            parts.push(bytes.subarray(prev, c));
            prev = c;
          }
          async function* src(): AsyncGenerator<Uint8Array> {
            yield* parts;
          }
          expect(await collect(parseJsonLines(src()))).toEqual(messages);
        },
      ),
    );
  });

  it('reads a last line without a newline and names a broken one', async () => {
    expect(await collect(parseJsonLines(chunks(['{"a":1}\r\n{"b"', ':2}'])))).toEqual([{ a: 1 }, { b: 2 }]);
    await expect(collect(parseJsonLines(chunks(['{"a":1}\n{oops}\n'])))).rejects.toThrow(
      /invalid JSON message/,
    );
  });
});

describe('boolean query parameters', () => {
  it('follows moby BoolValue', () => {
    for (const v of ['', '0', 'no', 'false', 'none', ' FALSE ', 'No']) expect(parseBoolParam(v)).toBe(false);
    for (const v of ['1', 'yes', 'true', 'on', 'x']) expect(parseBoolParam(v)).toBe(true);
    expect(parseBoolParam(undefined)).toBe(false);
    expect(parseBoolParam(undefined, true)).toBe(true);
  });
});
