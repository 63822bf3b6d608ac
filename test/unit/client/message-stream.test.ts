// The client's reading of a pull/push stream, whatever the chunk boundaries (dockerode#363, moby#25831).
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMessageLine, type JSONMessage } from '../../../api-spec/index.ts';
import { RegistryChallenged } from '../../../client/challenge.ts';
import { InvalidStreamMessageError, StreamError } from '../../../client/index.ts';
import { consumeMessages } from '../../../client/message-stream.ts';

type Body = Parameters<typeof consumeMessages>[0];

function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const sorted = [...new Set(cuts)].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const c of [...sorted, bytes.length]) {
    parts.push(bytes.subarray(prev, c));
    prev = c;
  }
  return parts;
}

async function read(parts: Buffer[]): Promise<{ seen: JSONMessage[]; error: unknown }> {
  const seen: JSONMessage[] = [];
  const error = await consumeMessages(Readable.from(parts) as unknown as Body, (m) => seen.push(m)).catch(
    (e: unknown) => e,
  );
  return { seen, error };
}

const message = fc.record(
  {
    status: fc.string({ unit: 'grapheme', maxLength: 20 }),
    id: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 12, maxLength: 12 }),
    progressDetail: fc.record({ current: fc.nat(), total: fc.integer({ min: -1, max: 1e9 }) }),
  },
  { requiredKeys: ['status'] },
);

describe('consumeMessages', () => {
  it('delivers every message once, in order, for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (msgs, cuts) => {
          const bytes = Buffer.from(msgs.map(formatMessageLine).join(''));
          const { seen, error } = await read(
            split(
              bytes,
              cuts.map((c) => c % (bytes.length + 1)),
            ),
          );
          expect(error).toBeUndefined();
          expect(seen).toEqual(msgs);
        },
      ),
    );
  });

  it('delivers what came before an errorDetail and then rejects, for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (msgs, cuts) => {
          const failure = { errorDetail: { code: 500, message: 'é failed' }, error: 'é failed' };
          const after = { status: 'never delivered' };
          const bytes = Buffer.from([...msgs, failure, after].map(formatMessageLine).join(''));
          const { seen, error } = await read(
            split(
              bytes,
              cuts.map((c) => c % (bytes.length + 1)),
            ),
          );
          expect(seen).toEqual(msgs);
          expect(error).toEqual(new StreamError('é failed', 500));
        },
      ),
    );
  });

  it('turns a final authChallenge aux into the loop’s challenge signal', async () => {
    const line = 'Bearer realm="https://a.example/token"';
    const { error } = await read([
      Buffer.from(
        formatMessageLine({
          errorDetail: { code: 401, message: 'authentication required' },
          aux: { authChallenge: { registry: 'r.example.com', repository: 'x/y', challenges: [line] } },
        }),
      ),
    ]);
    expect(error).toBeInstanceOf(RegistryChallenged);
    expect(error).toMatchObject({ registry: 'r.example.com', repository: 'x/y', lines: [line] });
  });

  it('names the field of a malformed message', async () => {
    const { error } = await read([Buffer.from('{"status":"ok"}\r\n{"errorDetail":{"code":"401"}}\r\n')]);
    expect(error).toEqual(
      new InvalidStreamMessageError('stream message field "errorDetail.code" must be a number'),
    );
  });
});
