// http1-response.ts: the wire's HTTP/1.1 response parser, held to RFC 9112 and to what undici hands the
// transport for the same bytes.
import { createServer, type Server } from 'node:net';
import fc from 'fast-check';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChunkedDecoder,
  framingOf,
  MAX_HEAD_BYTES,
  MalformedResponseError,
  parseHead,
  type ResponseHead,
} from '../../../../daemon/distribution/transport/http1-response.ts';
import { checkProperty } from '../../../helpers/property.ts';

const head = (text: string) => parseHead(Buffer.from(text, 'latin1'));
const refused = (text: string) => expect(() => head(text)).toThrow(MalformedResponseError);

describe('parseHead', () => {
  it('reads the status and the headers, names lower-cased, values with their OWS trimmed', () => {
    expect(
      head(
        'HTTP/1.1 206 Partial Content\r\nContent-Range:  bytes 0-1/2\t\r\nDocker-Content-Digest:sha256:ab\r\nX-Empty:',
      ),
    ).toEqual({
      statusCode: 206,
      headers: { 'content-range': 'bytes 0-1/2', 'docker-content-digest': 'sha256:ab', 'x-empty': '' },
      persistent: true,
    });
    expect(head('HTTP/1.0 200')).toEqual({ statusCode: 200, headers: {}, persistent: false });
  });

  it('keeps an HTTP/1.1 connection unless the response says close, in any case or among other options', () => {
    expect(head('HTTP/1.1 200 OK\r\nConnection: keep-alive').persistent).toBe(true);
    expect(head('HTTP/1.1 200 OK\r\nConnection: Close').persistent).toBe(false);
    expect(head('HTTP/1.1 200 OK\r\nconnection: upgrade, close').persistent).toBe(false);
    expect(head('HTTP/1.1 200 OK\r\nConnection: te\r\nConnection: close').persistent).toBe(false);
    expect(head('HTTP/1.0 200 OK\r\nConnection: keep-alive').persistent).toBe(false);
  });

  it('gives a name sent more than once as an array, in the order sent, whatever its case', () => {
    const { headers } = head(
      'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="a"\r\nx: 1\r\nwww-authenticate: Basic realm="b"\r\nWww-Authenticate: c',
    );
    expect(headers['www-authenticate']).toEqual(['Bearer realm="a"', 'Basic realm="b"', 'c']);
    expect(headers['x']).toBe('1');
  });

  it('refuses obs-fold, bad names, control characters and bad status lines', () => {
    refused('HTTP/1.1 200 OK\r\nA: b\r\n folded');
    refused('HTTP/1.1 200 OK\r\nA: b\r\n\tfolded');
    refused('HTTP/1.1 200 OK\r\nBad Name: b');
    refused('HTTP/1.1 200 OK\r\nName : b');
    refused('HTTP/1.1 200 OK\r\n: b');
    refused('HTTP/1.1 200 OK\r\nno colon');
    refused('HTTP/1.1 200 OK\r\nA: b\nB: c');
    refused('HTTP/1.1 200 OK\r\nA: b\rc');
    refused('HTTP/1.1 200 OK\r\nA: b\x00c');
    refused('HTTP/1.1 200 OK\r\nA: b\x7fc');
    refused('HTTP/1.1 200 OK\r\nA: b\x1bc');
    for (const line of [
      'HTTP/1.1 20 OK',
      'HTTP/1.1 2000 OK',
      'HTTP/1.1 099 X',
      'HTTP/2 200 OK',
      'http/1.1 200 OK',
    ]) {
      refused(line);
    }
    refused('HTTP/1.1  200 OK');
    refused('HTTP/1.1 200 O\x01K');
    refused('');
  });

  it('never does anything but parse or refuse, for any bytes', () => {
    checkProperty(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          parseHead(Buffer.from(bytes));
        } catch (error) {
          if (!(error instanceof MalformedResponseError)) throw error;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseHead against undici', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('gives header values as undici does: one latin1 character per byte (UTF-8 and invalid UTF-8 alike)', async () => {
    const lines = [
      Buffer.from(
        'WWW-Authenticate: Bearer realm="https://auth.example/tökén",error_description="日本語 ok"',
      ),
      Buffer.concat([
        Buffer.from('X-Bytes: a'),
        Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]),
        Buffer.from('z'),
      ]),
      Buffer.from('X-Latin: caf\xe9', 'latin1'),
    ];
    const wire = Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\n'),
      ...lines.flatMap((l) => [l, Buffer.from('\r\n')]),
      Buffer.from('content-length: 0\r\n'),
    ]);
    server = createServer((socket) => {
      socket.once('data', () => socket.end(Buffer.concat([wire, Buffer.from('\r\n')])));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const response = await request(`http://127.0.0.1:${address.port}/`);
    await response.body.dump();
    const ours = parseHead(wire.subarray(0, wire.length - 2));
    for (const name of ['www-authenticate', 'x-bytes', 'x-latin']) {
      expect(ours.headers[name]).toBe(response.headers[name]);
    }
    expect(
      Buffer.from(ours.headers['x-bytes'] as string, 'latin1').equals(lines[1]?.subarray(9) as Buffer),
    ).toBe(true);
  });
});

describe('framingOf', () => {
  const at = (statusCode: number, headers: ResponseHead['headers']) =>
    framingOf({ statusCode, headers, persistent: true });

  it('reads Content-Length, also as a list or repeated with one value', () => {
    expect(at(200, { 'content-length': '12' })).toEqual({ kind: 'length', length: 12 });
    expect(at(200, { 'content-length': '12, 12' })).toEqual({ kind: 'length', length: 12 });
    expect(at(200, { 'content-length': ['12', '12,12'] })).toEqual({ kind: 'length', length: 12 });
    expect(at(200, { 'content-length': '0' })).toEqual({ kind: 'none' });
    expect(at(200, {})).toEqual({ kind: 'close' });
  });

  it('refuses differing or non-decimal Content-Lengths', () => {
    for (const value of ['12, 13', '', '-1', '+5', '0x10', '1e3', '1 2', '1234567890123456']) {
      expect(() => at(200, { 'content-length': value }), value).toThrow(MalformedResponseError);
    }
    expect(() => at(200, { 'content-length': ['12', '13'] })).toThrow(MalformedResponseError);
  });

  it('lets chunked win over Content-Length and refuses every other transfer coding', () => {
    expect(at(200, { 'transfer-encoding': 'chunked', 'content-length': '5' })).toEqual({ kind: 'chunked' });
    expect(at(200, { 'transfer-encoding': 'Chunked' })).toEqual({ kind: 'chunked' });
    for (const coding of ['gzip', 'gzip, chunked', 'chunked, gzip', 'chunked, chunked', 'identity', '']) {
      expect(() => at(200, { 'transfer-encoding': coding }), coding).toThrow(MalformedResponseError);
    }
    expect(() => at(200, { 'transfer-encoding': ['gzip', 'chunked'] })).toThrow(MalformedResponseError);
  });

  it('gives 204 and 304 no body whatever their headers say', () => {
    expect(at(204, { 'content-length': '10' })).toEqual({ kind: 'none' });
    expect(at(304, { 'transfer-encoding': 'chunked' })).toEqual({ kind: 'none' });
  });
});

/** Feeds `wire` in the pieces `cuts` makes and returns the data and whether the decoder saw the end. */
function decode(wire: Buffer, cuts: number[] = []): { data: Buffer; done: boolean } {
  const decoder = new ChunkedDecoder();
  const out: Buffer[] = [];
  let done = false;
  let from = 0;
  for (const to of [...cuts.filter((c) => c > 0 && c < wire.length).sort((a, b) => a - b), wire.length]) {
    // Views are handed out, not copies: they are copied here before the next piece could reuse the input.
    done = decoder.push(wire.subarray(from, to), (view) => out.push(Buffer.from(view)));
    from = to;
  }
  return { data: Buffer.concat(out), done };
}

const chunkedArbitrary = fc
  .record({
    chunks: fc.array(fc.uint8Array({ minLength: 1, maxLength: 70 }), { maxLength: 8 }),
    extension: fc.constantFrom('', ';a=b', ' ;name="quoted; value"', '\t;x'),
    upper: fc.boolean(),
    trailers: fc.array(fc.constantFrom('Expires: never', 'X-Digest: sha256:00', 'a:'), { maxLength: 3 }),
  })
  .map(({ chunks, extension, upper, trailers }) => {
    const parts: Buffer[] = [];
    for (const chunk of chunks) {
      const size = chunk.length.toString(16);
      parts.push(Buffer.from(`${upper ? size.toUpperCase() : size}${extension}\r\n`), Buffer.from(chunk));
      parts.push(Buffer.from('\r\n'));
    }
    parts.push(Buffer.from(`0${extension}\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`));
    return { wire: Buffer.concat(parts), data: Buffer.concat(chunks) };
  });

describe('ChunkedDecoder', () => {
  it('gives the same bytes for any split of a valid chunked body, with extensions and trailers', () => {
    checkProperty(
      fc.property(
        chunkedArbitrary.chain((body) =>
          fc.record({ body: fc.constant(body), cuts: fc.array(fc.nat(body.wire.length), { maxLength: 20 }) }),
        ),
        ({ body, cuts }) => {
          const { data, done } = decode(body.wire, cuts);
          expect(done).toBe(true);
          expect(data.equals(body.data)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('says it is not done before the last CRLF, for every prefix', () => {
    const wire = Buffer.from('3\r\nabc\r\n0\r\nX: y\r\n\r\n');
    for (let n = 0; n < wire.length; n++) expect(decode(wire.subarray(0, n)).done).toBe(false);
    expect(decode(wire).done).toBe(true);
  });

  it('hands out views of the input, not copies', () => {
    const input = Buffer.alloc(10, '5\r\nhello\r\n');
    const views: Buffer[] = [];
    new ChunkedDecoder().push(input, (view) => views.push(view));
    expect(views[0]?.buffer).toBe(input.buffer);
    expect(views[0]?.byteOffset).toBe(input.byteOffset + 3);
  });

  it('refuses bytes after the end, in the same piece or a later one', () => {
    expect(() => decode(Buffer.from('0\r\n\r\nX'))).toThrow(MalformedResponseError);
    const decoder = new ChunkedDecoder();
    expect(decoder.push(Buffer.from('0\r\n\r\n'), () => {})).toBe(true);
    expect(() => decoder.push(Buffer.from('H'), () => {})).toThrow(MalformedResponseError);
  });

  it('refuses bad sizes, data longer than its size and lines without CRLF', () => {
    for (const wire of [
      'g\r\n',
      '-1\r\n',
      ' 1\r\nx\r\n',
      '\r\n',
      '1234567890abc\r\n',
      '3\nabc\r\n',
      '3;x\nabc\r\n',
      '1\r\nx\n0\r\n\r\n',
      '3\r\nabcd\r\n',
    ]) {
      expect(() => decode(Buffer.from(wire)), JSON.stringify(wire)).toThrow(MalformedResponseError);
    }
  });

  it('refuses a chunk-size line over 1 KiB, even split over many pieces, and takes one just under', () => {
    const long = Buffer.from(`1;${'e'.repeat(1100)}\r\nx\r\n0\r\n\r\n`);
    const cuts = Array.from({ length: 60 }, (_, i) => i * 20);
    expect(() => decode(long, cuts)).toThrow(MalformedResponseError);
    const fits = Buffer.from(`1;${'e'.repeat(1018)}\r\nx\r\n0\r\n\r\n`);
    expect(decode(fits, cuts)).toEqual({ data: Buffer.from('x'), done: true });
  });

  it('refuses trailers over 64 KiB in all, however many lines they take', () => {
    const line = `X-T: ${'t'.repeat(1000)}\r\n`;
    const lines = Math.ceil(MAX_HEAD_BYTES / line.length) + 1;
    const wire = Buffer.from(`0\r\n${line.repeat(lines)}\r\n`);
    expect(() => decode(wire, [100, 5000, 40_000])).toThrow(MalformedResponseError);
    expect(decode(Buffer.from(`0\r\n${line.repeat(10)}\r\n`)).done).toBe(true);
  });
});
