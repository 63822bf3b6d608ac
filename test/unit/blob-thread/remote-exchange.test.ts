// Bulk GETs on the blob thread against a raw TCP server in the test: a body written to its file there and hashed
// there, never past the room its caller gives, an abort and a cut connection after
// every reported byte is on disk, the errors the retry layer knows by class and code, and a body read as a stream.
import { createHash, randomBytes } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { statSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { createServer, type LookupFunction, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { threadRequest } from '../../../daemon/blob-thread/remote-exchange.ts';
import { ResponseClosedError } from '../../../daemon/distribution/transport/http1-wire.ts';
import { isRetryableError } from '../../../daemon/distribution/transport/retry.ts';
import { blobHash } from '../../../daemon/store/blob-hash.ts';
import { isSinkable, type SinkControl, type SinkResult } from '../../../daemon/store/body-sink.ts';

const MIB = 1024 * 1024;
const BODY = randomBytes(6 * MIB);

let dir: string;
const servers: Server[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dockhand-remote-'));
});

afterEach(async () => {
  for (const server of servers.splice(0)) server.close();
  await rm(dir, { recursive: true, force: true });
});

interface Answer {
  status?: number;
  body?: Buffer;
  /** Bytes of the body sent before the connection is destroyed. */
  cutAt?: number;
  /** Bytes per 5 ms; all at once when absent. */
  paced?: number;
}

/** A server answering every request with `answer`; its URL. */
async function serve(answer: Answer): Promise<URL> {
  const server = createServer((socket: Socket) => {
    socket.once('data', () => void send(socket, answer));
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return new URL(`http://127.0.0.1:${port}/v2/r/blobs/sha256:x`);
}

async function send(socket: Socket, answer: Answer): Promise<void> {
  const body = answer.body ?? BODY;
  socket.write(`HTTP/1.1 ${answer.status ?? 200} X\r\ncontent-length: ${body.length}\r\n\r\n`);
  const end = answer.cutAt ?? body.length;
  const step = answer.paced ?? end;
  for (let at = 0; at < end && !socket.destroyed; at += step) {
    socket.write(body.subarray(at, Math.min(end, at + step)));
    if (answer.paced) await delay(5);
  }
  if (answer.cutAt !== undefined) socket.destroy();
}

function get(url: URL, signal?: AbortSignal, lookup?: LookupFunction) {
  return threadRequest({ url, headers: {}, ca: undefined, lookup, signal, idleTimeoutMs: 5000 });
}

/** A lookup that answers every name with `addresses`, as the address guard passes on those it allowed. */
const answering =
  (...addresses: string[]): LookupFunction =>
  (_host, _options, callback) =>
    (callback as (error: null, all: LookupAddress[]) => void)(
      null,
      addresses.map((address) => ({ address, family: 4 })),
    );

/** Sinks the body of `url` into a new file; what it wrote, as the file holds it and as it was reported. */
async function sinkInto(
  url: URL,
  control: Partial<SinkControl>,
  options: { hashed?: boolean; signal?: AbortSignal; stallMs?: number; lookup?: LookupFunction } = {},
) {
  const response = await get(url, options.signal, options.lookup);
  const body = response.body;
  const hash = options.hashed ? blobHash('sha256', BODY.length) : undefined;
  const path = join(dir, 'blob');
  const file = await open(path, 'a');
  let reported = 0;
  let result: SinkResult;
  let onDiskAfterStall = 0;
  try {
    expect(isSinkable(body) && body.canSink(hash)).toBe(true);
    if (!isSinkable(body)) throw new Error('not sinkable');
    const sunk = body.sinkTo(
      { fd: file.fd, hash },
      {
        room: control.room ?? BODY.length,
        onBytes: (bytes) => {
          reported += bytes;
          control.onBytes?.(bytes);
        },
        cut: control.cut ?? false,
        signal: options.signal,
      },
    );
    // The daemon's loop held up (a busy daemon): the thread goes on alone meanwhile.
    const until = performance.now() + (options.stallMs ?? 0);
    while (performance.now() < until);
    onDiskAfterStall = statSync(path).size;
    result = await sunk;
  } finally {
    await file.close();
  }
  const digest = hash ? await hash.digest() : undefined;
  hash?.close();
  return { result, reported, written: await readFile(path), digest, onDiskAfterStall };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('a bulk body written on the blob thread', () => {
  it('is written whole and hashed there: the file and the digest are the body', async () => {
    const url = await serve({});
    const { result, reported, written, digest } = await sinkInto(url, {}, { hashed: true });
    expect(result).toEqual({ ended: true, over: false, error: undefined, diskFailed: false });
    expect(reported).toBe(BODY.length);
    expect(written.equals(BODY)).toBe(true);
    expect(digest).toBe(sha256(BODY));
  });

  it('writes the whole body while the daemon loop is held up: it waits for no answer from the daemon', async () => {
    // Smaller than what the loopback's socket buffers take at once: the server runs on the loop held up too.
    const body = BODY.subarray(0, 2 * MIB + 1654);
    const url = await serve({ body });
    const { result, written, onDiskAfterStall } = await sinkInto(
      url,
      { room: body.length },
      { stallMs: 500 },
    );
    // On disk before the daemon's loop read a single report.
    expect(onDiskAfterStall).toBe(body.length);
    expect(result).toEqual({ ended: true, over: false, error: undefined, diskFailed: false });
    expect(written.equals(body)).toBe(true);
  });

  it('stops where the room ends: a range is cut there, a blob that must end there is over', async () => {
    const url = await serve({});
    const room = 3 * MIB + 17;
    for (const cut of [true, false]) {
      const { result, reported, written } = await sinkInto(url, { room, cut });
      expect(result).toMatchObject({ ended: false, over: !cut, error: undefined });
      expect(reported).toBe(room);
      expect(written.equals(BODY.subarray(0, room))).toBe(true);
      await rm(join(dir, 'blob'));
    }
  });

  it('keeps a connection whose answer ended at its cut, for requests screened to the same addresses only', async () => {
    const connections: Socket[] = [];
    const server = createServer((socket: Socket) => {
      connections.push(socket);
      socket.on('data', () => {
        socket.write(`HTTP/1.1 206 X\r\ncontent-length: ${MIB}\r\n\r\n`);
        socket.write(BODY.subarray(0, MIB));
      });
      socket.on('error', () => {});
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const url = new URL(`http://registry.test:${port}/v2/r/blobs/sha256:x`);
    const piece = async (room: number, lookup: LookupFunction) => {
      const { result, written } = await sinkInto(url, { room, cut: true }, { lookup });
      expect(result.error).toBeUndefined();
      expect(written.equals(BODY.subarray(0, room))).toBe(true);
      await rm(join(dir, 'blob'));
    };
    // Pieces that end where the answer ends: one connection carries them all.
    await piece(MIB, answering('127.0.0.1'));
    await piece(MIB, answering('127.0.0.1'));
    expect(connections).toHaveLength(1);
    // The same name screened to other addresses (another registry's guard): a connection of its own.
    await piece(MIB, answering('127.0.0.1', '127.0.0.2'));
    expect(connections).toHaveLength(2);
    // Cut before its answer ended: the rest is still on the way, the connection goes.
    await piece(MIB / 2, answering('127.0.0.1'));
    await piece(MIB, answering('127.0.0.1'));
    expect(connections).toHaveLength(3);
  });

  it('reports an abort after every byte it reported is on disk', async () => {
    const url = await serve({ paced: 64 * 1024 });
    const abort = new AbortController();
    const reason = new Error('stop');
    let seen = 0;
    const onBytes = (bytes: number) => {
      seen += bytes;
      if (seen >= MIB) abort.abort(reason);
    };
    const { result, reported, written } = await sinkInto(
      url,
      { onBytes },
      { signal: abort.signal, hashed: true },
    );
    expect(result.error).toBe(reason);
    expect(result.ended).toBe(false);
    expect(reported).toBeLessThan(BODY.length);
    expect(written.length).toBe(reported);
    expect(written.equals(BODY.subarray(0, reported))).toBe(true);
  });

  it('fails a body cut mid-way with the wire error, after the bytes before the cut are written', async () => {
    const cutAt = 2 * MIB + 5;
    const url = await serve({ cutAt });
    const { result, reported, written } = await sinkInto(url, {});
    expect(result.error).toBeInstanceOf(ResponseClosedError);
    expect(isRetryableError(result.error)).toBe(true);
    expect(reported).toBe(cutAt);
    expect(written.equals(BODY.subarray(0, cutAt))).toBe(true);
  });
});

describe('a bulk answer read on the event loop', () => {
  it('streams from the thread: an error body reads as it was sent', async () => {
    const url = await serve({ status: 404, body: Buffer.from('{"errors":[{"code":"BLOB_UNKNOWN"}]}') });
    const response = await get(url);
    expect(response.statusCode).toBe(404);
    expect(await text(response.body)).toBe('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
  });

  it('is no longer sinkable once read, nor into a hash on the event loop (a small blob)', async () => {
    const url = await serve({});
    const response = await get(url);
    const body = response.body;
    if (!isSinkable(body)) throw new Error('not sinkable');
    expect(body.canSink(blobHash('sha256', 10))).toBe(false);
    body.read();
    await delay(20);
    expect(body.canSink(undefined)).toBe(false);
    body.destroy();
  });

  it('rejects a refused connection with its code, as the wire does', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    server.close();
    const failure = await get(new URL(`http://127.0.0.1:${port}/v2/r/blobs/x`)).catch((e: unknown) => e);
    expect((failure as { code?: string }).code).toBe('ECONNREFUSED');
    expect(isRetryableError(failure)).toBe(true);
  });
});
