// http1-wire.ts against raw TCP and TLS servers in the test: framing, interim answers, bounds, timeouts with and
// without backpressure, aborts, the request head on the wire, trust, reused read buffers under a slow writer, and
// connections kept between requests (when, and what happens when the registry closes one).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { setTimeout as delay } from 'node:timers/promises';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MalformedResponseError } from '../../../../daemon/distribution/transport/http1-response.ts';
import {
  ResponseClosedError,
  type WireConnection,
  type WireRequest,
  WireTimeoutError,
  wireRequest,
} from '../../../../daemon/distribution/transport/http1-wire.ts';
import { WirePool } from '../../../../daemon/distribution/transport/wire-pool.ts';
import { giveBack, ReadBuffers } from '../../../../daemon/read-buffers.ts';
import { createServerCertificate } from '../../../rig/tls.ts';

/** A connection as the server sees it: the request head once it arrived, and whether the client closed it. */
interface Connection {
  socket: Socket;
  head: Promise<string>;
  closed: Promise<void>;
}

interface RawServer {
  port: number;
  connections: Connection[];
  received: () => string;
  close(): Promise<void>;
}

const servers: RawServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server that hands each connection to `answer` with the request head it read. */
async function rawServer(
  answer: (socket: Socket, head: string) => unknown,
  tls?: { cert: string; key: string },
): Promise<RawServer> {
  const connections: Connection[] = [];
  let received = '';
  const onSocket = (socket: Socket) => {
    socket.setNoDelay(true);
    let bytes = '';
    const head = new Promise<string>((resolve) => {
      socket.on('data', (data: Buffer) => {
        received += data.toString('latin1');
        bytes += data.toString('latin1');
        const end = bytes.indexOf('\r\n\r\n');
        if (end >= 0) resolve(bytes.slice(0, end + 4));
      });
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    connections.push({ socket, head, closed });
    void head.then((h) => answer(socket, h)).catch(() => socket.destroy());
  };
  const server: Server = tls ? createTlsServer(tls, onSocket) : createNetServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const raw: RawServer = {
    port: address.port,
    connections,
    received: () => received,
    async close() {
      for (const c of connections) c.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  servers.push(raw);
  return raw;
}

function get(server: RawServer, options: Partial<WireRequest> & { path?: string } = {}) {
  const { path = '/v2/r/blobs/sha256:ab', ...rest } = options;
  return wireRequest({
    method: 'GET',
    bulk: true,
    url: new URL(`http://127.0.0.1:${server.port}${path}`),
    headers: { 'user-agent': 'dockhand-test' },
    secureContext: undefined,
    lookup: undefined,
    signal: undefined,
    idleTimeoutMs: 2000,
    ...rest,
  });
}

/** Writes `bytes` in pieces, each its own TCP segment. */
async function dribble(socket: Socket, bytes: Buffer | string, cuts: number[]): Promise<void> {
  const all = Buffer.from(bytes);
  let from = 0;
  for (const to of [...cuts, all.length]) {
    socket.write(all.subarray(from, to));
    from = to;
    await delay(2);
  }
}

/** The client closed `connection` within a second (long before any idle timeout the tests set). */
async function closedSoon(connection: Connection | undefined): Promise<void> {
  if (!connection) throw new Error('no connection was made');
  const late = delay(1000).then(() => Promise.reject(new Error('the connection is still open')));
  await Promise.race([connection.closed, late]);
}

/** Every byte a body gives before it fails, and the failure. */
async function readToError(body: AsyncIterable<unknown>): Promise<{ bytes: Buffer; error: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
  return { bytes: Buffer.concat(chunks), error: undefined };
}

const bodyError = async (body: NodeJS.ReadableStream): Promise<unknown> => {
  try {
    for await (const _ of body);
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('wireRequest: framing', () => {
  it('reads a Content-Length body, dropping bytes past its length', async () => {
    const server = await rawServer((s) =>
      s.end(
        'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nDocker-Content-Digest: sha256:ab\r\n\r\nhello worldEXTRA',
      ),
    );
    const response = await get(server);
    expect(response.statusCode).toBe(200);
    expect(response.headers['docker-content-digest']).toBe('sha256:ab');
    expect(await text(response.body)).toBe('hello world');
  });

  it('reads a chunked body cut at awkward places: inside sizes, CRLFs, data and the trailer', async () => {
    const wire =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n';
    const head = wire.indexOf('\r\n\r\n') + 4;
    const cuts = [
      head - 1,
      head + 1,
      head + 4,
      head + 9,
      head + 13,
      head + 14,
      head + 20,
      head + 21,
      head + 33,
    ];
    const server = await rawServer((s) => dribble(s, wire, cuts));
    const response = await get(server);
    expect(await text(response.body)).toBe('hello 0123456789');
  });

  it('reads a body without length to the close of the connection', async () => {
    const server = await rawServer(async (s) => {
      s.write('HTTP/1.1 200 OK\r\n\r\npart one, ');
      await delay(5);
      s.end('part two');
    });
    expect(await text((await get(server)).body)).toBe('part one, part two');
  });

  it('ends the body at once for 204 and Content-Length 0', async () => {
    const server = await rawServer((s, head) =>
      s.write(
        head.includes('/empty')
          ? 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'
          : 'HTTP/1.1 204 No Content\r\n\r\n',
      ),
    );
    expect(await text((await get(server)).body)).toBe('');
    expect(await text((await get(server, { path: '/empty' })).body)).toBe('');
  });

  it('reads a head sent one byte at a time', async () => {
    const wire = 'HTTP/1.1 206 Partial Content\r\ncontent-range: bytes 0-2/3\r\ncontent-length: 3\r\n\r\nabc';
    const server = await rawServer((s) =>
      dribble(
        s,
        wire,
        Array.from({ length: wire.length - 1 }, (_, i) => i + 1),
      ),
    );
    const response = await get(server);
    expect(response.statusCode).toBe(206);
    expect(response.headers['content-range']).toBe('bytes 0-2/3');
    expect(await text(response.body)).toBe('abc');
  });

  it('skips 100 Continue and 103 Early Hints, in one segment with the answer or apart', async () => {
    const wire =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    const server = await rawServer((s, head) =>
      head.includes('/apart') ? dribble(s, wire, [10, 25, 40]) : s.write(wire),
    );
    for (const path of ['/together', '/apart']) {
      const response = await get(server, { path });
      expect(response.statusCode).toBe(200);
      expect(response.headers['link']).toBeUndefined();
      expect(await text(response.body)).toBe('ok');
    }
  });

  it('refuses a head over 64 KiB, whether or not its end came', async () => {
    const big = `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(66 * 1024)}\r\n`;
    const server = await rawServer((s, head) => s.write(head.includes('/ended') ? `${big}\r\n` : big));
    await expect(get(server)).rejects.toBeInstanceOf(MalformedResponseError);
    await expect(get(server, { path: '/ended' })).rejects.toBeInstanceOf(MalformedResponseError);
  });

  it('refuses a malformed head, and a bad chunk in the read that brought the head on the body, not uncaught', async () => {
    const server = await rawServer((s, head) =>
      s.write(
        head.includes('/chunk')
          ? 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n'
          : 'HTTP/1.1 200 OK\r\nbad header\r\n\r\n',
      ),
    );
    await expect(get(server)).rejects.toBeInstanceOf(MalformedResponseError);
    const response = await get(server, { path: '/chunk' });
    expect(await bodyError(response.body)).toBeInstanceOf(MalformedResponseError);
  });

  it('fails the body with ResponseClosedError when the connection ends mid-body', async () => {
    const server = await rawServer(async (s, head) => {
      if (head.includes('/chunked')) s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel');
      else s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789');
      await delay(5);
      s.end();
    });
    for (const path of ['/length', '/chunked']) {
      const response = await get(server, { path });
      const error = await bodyError(response.body);
      expect(error, path).toBeInstanceOf(ResponseClosedError);
      expect((error as ResponseClosedError).code).toBe('DOCKHAND_RESPONSE_CLOSED');
    }
  });

  it('gives a reader that comes after a reset the bytes before it, then the error', async () => {
    // Less than the body holds before it pauses the connection: all of it is read before the reset is.
    const bytes = randomBytes(100_000);
    const server = await rawServer(async (s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${2 * bytes.length}\r\n\r\n`);
      s.write(bytes);
      await delay(20);
      s.resetAndDestroy();
    });
    const response = await get(server);
    // The ingest opens its file before it reads: the reset has come by then.
    await delay(200);
    const { bytes: received, error } = await readToError(response.body);
    expect((error as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNRESET');
    expect(received.equals(bytes)).toBe(true);
  });

  it('gives a reader that comes after a clean close (FIN) mid-body the bytes before it, then ResponseClosedError', async () => {
    const bytes = randomBytes(100_000);
    const server = await rawServer((s) => {
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${2 * bytes.length}\r\n\r\n`);
      s.end(bytes);
    });
    const response = await get(server);
    await delay(200);
    const { bytes: received, error } = await readToError(response.body);
    expect(error).toBeInstanceOf(ResponseClosedError);
    expect(received.equals(bytes)).toBe(true);
  });

  it('fails the response with ResponseClosedError when the connection ends before the head did', async () => {
    const server = await rawServer((s) => s.end('HTTP/1.1 200 OK\r\ncontent-le'));
    await expect(get(server)).rejects.toBeInstanceOf(ResponseClosedError);
  });
});

describe('wireRequest: timeouts', () => {
  it('times out a connection that is never made with DOCKHAND_CONNECT_TIMEOUT', async () => {
    const error = await wireRequest({
      method: 'GET',
      bulk: true,
      url: new URL('http://registry.invalid/v2/'),
      headers: {},
      secureContext: undefined,
      // A resolver that never answers: the connection waits as one to a black-holed address does.
      lookup: () => {},
      signal: undefined,
      idleTimeoutMs: 100,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WireTimeoutError);
    expect((error as WireTimeoutError).code).toBe('DOCKHAND_CONNECT_TIMEOUT');
  });

  it('times out a registry that never answers with DOCKHAND_HEADERS_TIMEOUT', async () => {
    const server = await rawServer(() => {});
    const error = await get(server, { idleTimeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WireTimeoutError);
    expect((error as WireTimeoutError).code).toBe('DOCKHAND_HEADERS_TIMEOUT');
  });

  it('times out a body that stalls with DOCKHAND_BODY_TIMEOUT, after some bytes or right after the head', async () => {
    const server = await rawServer(async (s, head) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n');
      if (!head.includes('/after-head')) {
        await delay(50);
        s.write('0123456789');
      }
    });
    for (const path of ['/after-bytes', '/after-head']) {
      const response = await get(server, { path, idleTimeoutMs: 150 });
      const error = await bodyError(response.body);
      expect(error, path).toBeInstanceOf(WireTimeoutError);
      expect((error as WireTimeoutError).code, path).toBe('DOCKHAND_BODY_TIMEOUT');
    }
  });

  it('does not time out while the reader holds the body back for longer than the idle timeout', async () => {
    const size = 8 * 1024 * 1024;
    const body = randomBytes(size);
    const server = await rawServer((s) => {
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`);
      s.end(body);
    });
    // The idle timeout leaves room for a busy machine's event loop; the pause is three times longer.
    const response = await get(server, { idleTimeoutMs: 300 });
    const hash = createHash('sha256');
    let paused = false;
    for await (const chunk of response.body) {
      hash.update(chunk as Buffer);
      if (!paused) {
        paused = true;
        await delay(900);
      }
    }
    expect(hash.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
  });
});

describe('wireRequest: abort', () => {
  it('rejects at once for a signal aborted before, sending nothing', async () => {
    const server = await rawServer(() => {});
    const reason = new Error('cancelled before');
    const error = await get(server, { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(error).toBe(reason);
    await delay(50);
    expect(server.received()).toBe('');
  });

  it('rejects the response for an abort while waiting for the head, closing the connection', async () => {
    const server = await rawServer(() => {});
    const controller = new AbortController();
    const pending = get(server, { signal: controller.signal, idleTimeoutMs: 60_000 });
    await delay(50);
    const reason = new Error('cancelled waiting');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await closedSoon(server.connections[0]);
  });

  it('fails the body for an abort after the head, closing the connection', async () => {
    const server = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123'));
    const controller = new AbortController();
    const response = await get(server, { signal: controller.signal, idleTimeoutMs: 60_000 });
    const reason = new Error('cancelled reading');
    setTimeout(() => controller.abort(reason), 20);
    expect(await bodyError(response.body)).toBe(reason);
    await closedSoon(server.connections[0]);
  });
});

describe('wireRequest: the request', () => {
  it('sends a GET with path and query, host, the headers given and connection: close', async () => {
    const server = await rawServer((s) => s.end('HTTP/1.1 204 No Content\r\n\r\n'));
    const response = await get(server, {
      path: '/v2/r/blobs/sha256:ab?ns=docker.io&x=%2F',
      headers: {
        'user-agent': 'dockhand/1.0 test',
        authorization: 'Bearer t0k',
        accept: ['a/b', 'c/d'],
        range: 'bytes=5-',
      },
    });
    await response.body.dump();
    expect(await server.connections[0]?.head).toBe(
      'GET /v2/r/blobs/sha256:ab?ns=docker.io&x=%2F HTTP/1.1\r\n' +
        `host: 127.0.0.1:${server.port}\r\n` +
        'user-agent: dockhand/1.0 test\r\nauthorization: Bearer t0k\r\naccept: a/b\r\naccept: c/d\r\nrange: bytes=5-\r\n' +
        'connection: close\r\n\r\n',
    );
  });

  it('refuses a header with a line break or a bad name before connecting', async () => {
    const server = await rawServer(() => {});
    const refusedHeaders: Record<string, string | string[]>[] = [
      { authorization: 'Bearer a\r\nx-injected: 1' },
      { authorization: 'Bearer a\nb' },
      { 'bad name': 'v' },
      { accept: ['ok', 'bad\r\n'] },
    ];
    for (const headers of refusedHeaders) {
      await expect(get(server, { headers })).rejects.toThrow(/invalid request header/);
    }
    await delay(50);
    expect(server.connections).toHaveLength(0);
  });
});

describe('wireRequest: TLS', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads over TLS trusting the CA given, and refuses the same server without it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulk-wire-tls-'));
    const certificate = await createServerCertificate(dir, '127.0.0.1');
    const body = randomBytes(3 * 1024 * 1024);
    const server = await rawServer(
      (s) =>
        s.end(
          Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`), body]),
        ),
      {
        cert: await readFile(certificate.certPath, 'utf8'),
        key: await readFile(certificate.keyPath, 'utf8'),
      },
    );
    const url = new URL(`https://127.0.0.1:${server.port}/v2/r/blobs/sha256:ab`);
    const request = {
      method: 'GET' as const,
      bulk: true,
      url,
      headers: {},
      lookup: undefined,
      signal: undefined,
      idleTimeoutMs: 2000,
    };
    const response = await wireRequest({
      ...request,
      secureContext: createSecureContext({ ca: [certificate.caPem] }),
    });
    const hash = createHash('sha256');
    for await (const chunk of response.body) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    const error = await wireRequest({ ...request, secureContext: undefined }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toMatch(/UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
  });
});

describe('wireRequest: reused read buffers', () => {
  /**
   * Reads `response.body` as the store does: chunks wait (a random few milliseconds, as a disk write does) before
   * they are hashed in order and given back, while the socket keeps reading into buffers given back earlier; the
   * reader holds back once a few chunks wait.
   */
  async function hashSlowly(body: AsyncIterable<Buffer>): Promise<string> {
    const hash = createHash('sha256');
    let writing = Promise.resolve();
    let waiting = 0;
    for await (const chunk of body) {
      const wait = Math.random() * 2;
      waiting++;
      writing = writing.then(async () => {
        await delay(wait);
        hash.update(chunk);
        giveBack(chunk);
        waiting--;
      });
      if (waiting > 4) await writing;
    }
    await writing;
    return hash.digest('hex');
  }

  async function servedFrom(
    body: Buffer,
    frame: (s: Socket, body: Buffer) => Promise<void>,
  ): Promise<{ server: RawServer; expected: string }> {
    const server = await rawServer((s) => frame(s, body));
    return { server, expected: createHash('sha256').update(body).digest('hex') };
  }

  it('keeps a 64 MiB body intact while its buffers are given back late and read into again', async () => {
    const taken = new Set<Buffer>();
    let takes = 0;
    const take = ReadBuffers.prototype.take;
    vi.spyOn(ReadBuffers.prototype, 'take').mockImplementation(function (this: ReadBuffers) {
      const buffer = take.call(this);
      takes++;
      taken.add(buffer);
      return buffer;
    });
    const size = 64 * 1024 * 1024;
    const { server, expected } = await servedFrom(randomBytes(size), async (s, body) => {
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`);
      for (let at = 0; at < size; at += 1024 * 1024) {
        if (!s.write(body.subarray(at, at + 1024 * 1024))) await new Promise((r) => s.once('drain', r));
      }
      s.end();
    });
    const response = await get(server);
    expect(await hashSlowly(response.body as AsyncIterable<Buffer>)).toBe(expected);
    // The test proves something only if buffers were in fact read into again.
    expect(taken.size).toBeLessThan(takes / 4);
  });

  it('keeps a chunked body intact with many chunks to a buffer, given back late', async () => {
    const size = 8 * 1024 * 1024;
    const { server, expected } = await servedFrom(randomBytes(size), async (s, body) => {
      s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
      for (let at = 0; at < size; ) {
        const n = Math.min(size - at, 1 + Math.floor(Math.random() * 40_000));
        const piece = Buffer.concat([
          Buffer.from(`${n.toString(16)}\r\n`),
          body.subarray(at, at + n),
          Buffer.from('\r\n'),
        ]);
        if (!s.write(piece)) await new Promise((r) => s.once('drain', r));
        at += n;
      }
      s.end('0\r\n\r\n');
    });
    const response = await get(server);
    expect(await hashSlowly(response.body as AsyncIterable<Buffer>)).toBe(expected);
  });
});

describe('wireRequest: dump', () => {
  it('closes the connection when the body is dumped mid-way', async () => {
    const server = await rawServer((s) =>
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 10000000\r\n\r\n0123456789'),
    );
    const response = await get(server, { idleTimeoutMs: 60_000 });
    await response.body.dump();
    await closedSoon(server.connections[0]);
    expect(response.body.destroyed).toBe(true);
  });
});

describe('wireRequest: kept connections', () => {
  /** A server answering every request of a connection in turn with `answer(index of the request on it, head)`. */
  async function keepAliveServer(
    answer: (socket: Socket, nth: number, head: string) => void,
  ): Promise<RawServer> {
    return rawServer((socket, first) => {
      let nth = 0;
      let pending = '';
      answer(socket, nth++, first);
      // rawServer read the first head; the data after it, the next requests, comes here.
      socket.on('data', (data: Buffer) => {
        pending += data.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
          const head = pending.slice(0, end + 4);
          pending = pending.slice(end + 4);
          answer(socket, nth++, head);
        }
      });
    });
  }

  const kept = (server: RawServer, pool: WirePool<WireConnection>, options: Partial<WireRequest> = {}) =>
    get(server, { bulk: false, pool, ...options });

  let pool: WirePool<WireConnection>;
  beforeEach(() => {
    pool = new WirePool<WireConnection>(60_000);
  });
  afterEach(() => pool.close());

  it('sends GET and HEAD one after another on one connection, without connection: close', async () => {
    const server = await keepAliveServer((s, nth, head) => {
      const body = `answer ${nth}`;
      s.write(
        `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${head.startsWith('HEAD') ? '' : body}`,
      );
    });
    expect(await text((await kept(server, pool)).body)).toBe('answer 0');
    const head = await kept(server, pool, { method: 'HEAD' });
    expect(head.headers['content-length']).toBe('8');
    expect(await text(head.body)).toBe('');
    expect(await text((await get(server, { bulk: false, pool, path: '/v2/' })).body)).toBe('answer 2');
    expect(server.connections).toHaveLength(1);
    expect(server.received()).not.toMatch(/connection:/i);
    expect(server.received()).toContain('HEAD /v2/r/blobs/sha256:ab HTTP/1.1\r\n');
  });

  it('reads a chunked body, and one over many reads held back by its reader, on one kept connection', async () => {
    const big = randomBytes(1_000_000);
    const server = await keepAliveServer((s, nth) => {
      if (nth === 1)
        s.write(
          Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${big.length}\r\n\r\n`), big]),
        );
      else s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    });
    const first = await kept(server, pool);
    const second = await kept(server, pool);
    const chunks: Buffer[] = [];
    for await (const chunk of second.body) {
      chunks.push(chunk as Buffer);
      await delay(5);
    }
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
    expect(await text(first.body)).toBe('hello');
    expect(await text((await kept(server, pool)).body)).toBe('hello');
    expect(server.connections).toHaveLength(1);
  });

  it('keeps a body read late intact though its connection served another response meanwhile', async () => {
    const server = await keepAliveServer((s, nth) => {
      const body = String(nth).repeat(1000);
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    });
    const first = await kept(server, pool);
    await delay(50);
    const second = await kept(server, pool);
    expect(await text(second.body)).toBe('1'.repeat(1000));
    expect(await text(first.body)).toBe('0'.repeat(1000));
    expect(server.connections).toHaveLength(1);
  });

  it.each([
    ['says Connection: close', 'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok'],
    ['is HTTP/1.0', 'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok'],
    [
      'sends bytes past its Content-Length',
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n',
    ],
    ['ends with the connection (no length)', 'HTTP/1.1 200 OK\r\n\r\nok'],
  ])('does not keep a connection whose response %s', async (_, answer) => {
    const server = await keepAliveServer((s) => {
      s.write(answer);
      if (!answer.includes('content-length')) s.end();
    });
    expect(await text((await kept(server, pool)).body)).toBe('ok');
    await closedSoon(server.connections[0]);
    await text((await kept(server, pool)).body);
    expect(server.connections).toHaveLength(2);
  });

  it('does not keep the connection of a body dumped before its end, nor of a request without a pool', async () => {
    const server = await keepAliveServer((s) =>
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n0123'),
    );
    await (await kept(server, pool)).body.dump();
    await closedSoon(server.connections[0]);
    const alone = await get(server, { bulk: true });
    await alone.body.dump();
    await closedSoon(server.connections[1]);
    expect(await server.connections[1]?.head).toContain('connection: close\r\n');
    expect(pool.take(`http://127.0.0.1:${server.port}`)).toBeUndefined();
  });

  it('keeps a connection under the key its request gives: only a request with the same key takes it', async () => {
    const server = await keepAliveServer((s, nth) =>
      s.write(`HTTP/1.1 206 X\r\ncontent-length: 2\r\n\r\n${nth}!`),
    );
    const bulk = (poolKey: string) => kept(server, pool, { bulk: true, poolKey });
    expect(await text((await bulk('a')).body)).toBe('0!');
    expect(await text((await bulk('a')).body)).toBe('1!');
    expect(server.connections).toHaveLength(1);
    expect(await server.connections[0]?.head).not.toContain('connection: close');
    expect(await text((await bulk('b')).body)).toBe('0!');
    expect(server.connections).toHaveLength(2);
  });

  it('sends the request again on a new connection when a kept one was closed by the registry before any answer', async () => {
    const server = await keepAliveServer((s, nth) => {
      // The second request on the first connection finds it closed, as an idle timeout at the registry does it.
      if (nth === 1) s.destroy();
      else s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    expect(await text((await kept(server, pool)).body)).toBe('ok');
    expect(await text((await kept(server, pool)).body)).toBe('ok');
    expect(server.connections).toHaveLength(2);
  });

  it('sends the request again on a new connection when a HEAD answer left a body on the kept one', async () => {
    const server = await keepAliveServer((s, nth, head) => {
      if (head.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n');
      // The HEAD's body, which it should not have, comes late: it reaches the client ahead of the next answer.
      else s.write(`${nth === 1 ? 'hello' : ''}HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n${nth}!`);
    });
    expect(await text((await kept(server, pool, { method: 'HEAD' })).body)).toBe('');
    expect(await text((await kept(server, pool)).body)).toBe('0!');
    expect(server.connections).toHaveLength(2);
  });

  it('fails, and does not send again, a request on a kept connection closed after part of the answer', async () => {
    const server = await keepAliveServer((s, nth) => {
      if (nth === 0) s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      else s.end('HTTP/1.1 200 OK\r\ncontent-le');
    });
    await text((await kept(server, pool)).body);
    await expect(kept(server, pool)).rejects.toBeInstanceOf(ResponseClosedError);
    expect(server.connections).toHaveLength(1);
  });

  it('drops a kept connection once the registry closes it, and once it waited its time', async () => {
    const server = await keepAliveServer((s, nth) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      if (nth === 0) setTimeout(() => s.end(), 20);
    });
    await text((await kept(server, pool)).body);
    await closedSoon(server.connections[0]);
    await delay(20);
    expect(pool.take(`http://127.0.0.1:${server.port}`)).toBeUndefined();
    const short = new WirePool<WireConnection>(50);
    await text((await kept(server, short)).body);
    await closedSoon(server.connections[1]);
    expect(short.take(`http://127.0.0.1:${server.port}`)).toBeUndefined();
  });
});
