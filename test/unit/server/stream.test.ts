// Streams are tied to their client and to the daemon's life: a disconnect or a shutdown aborts the job's signal.
import { afterEach, describe, expect, it } from 'vitest';
import { STALLED_CLIENT_MESSAGE, type StreamLimits } from '../../../daemon/server/message-writer.ts';
import { checkedResponse, openEngineStream, readBody } from '../../helpers/openapi-check.ts';
import { hangingJob, imageEvent } from './fake-image-service.ts';
import { type ServerHarness, startServerHarness } from './harness.ts';

let t: ServerHarness | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

function firstChunk(res: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve) => res.once('data', (c: Buffer) => resolve(c.toString('utf8'))));
}

describe('stream lifetime', () => {
  it('aborts the job signal when the client disconnects mid-stream', async () => {
    t = await startServerHarness();
    let abortReason: unknown;
    const aborted = new Promise<void>((resolve) => {
      t!.service.pullBehaviour = async () =>
        hangingJob((reason) => {
          abortReason = reason;
          resolve();
        });
    });
    const controller = new AbortController();
    const res = await openEngineStream(
      t.socket,
      { method: 'POST', path: '/images/create?fromImage=a&tag=1' },
      controller.signal,
    );
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(await firstChunk(res))).toEqual({ status: 'Pulling from small', id: '1' });
    res.on('error', () => {});
    controller.abort();
    await aborted;
    expect((abortReason as Error).message).toBe('the client disconnected');
  });

  it('aborts running jobs and ends event streams when the daemon closes', async () => {
    t = await startServerHarness();
    let abortReason: unknown;
    t.service.pullBehaviour = async () =>
      hangingJob((reason) => {
        abortReason = reason;
      });
    const pullReq = { method: 'POST', path: '/images/create?fromImage=a&tag=1' };
    const pull = await openEngineStream(t.socket, pullReq);
    await firstChunk(pull);
    const pullBody = readBody(pull);
    const eventsReq = { path: '/events' };
    const events = await openEngineStream(t.socket, eventsReq);
    expect(events.statusCode).toBe(200);
    const eventsBody = readBody(events);

    await t.daemon.close();
    expect((abortReason as Error).message).toBe('the daemon is shutting down');
    // The pull stream ends with the abort as its error line; the event stream ends cleanly.
    const lines = checkedResponse(pullReq, pull, await pullBody).lines();
    expect(lines.at(-1)).toEqual({
      errorDetail: { message: 'the daemon is shutting down' },
      error: 'the daemon is shutting down',
    });
    expect(checkedResponse(eventsReq, events, await eventsBody).body).toBe('');
  });
});

describe('a client that reads slowly', () => {
  it('gets every status in order and the latest progress, not every progress update', async () => {
    t = await startServerHarness();
    const UPDATES = 20_000;
    const layer = 'a1b2c3d4e5f6';
    let finished!: () => void;
    const jobDone = new Promise<void>((resolve) => {
      finished = resolve;
    });
    t.service.pullBehaviour = async () => ({
      async run(emit) {
        emit({ status: 'Pulling from small', id: '1' });
        emit({ status: 'Pulling fs layer', progressDetail: {}, id: layer });
        for (let i = 1; i <= UPDATES; i++) {
          const progress = `[${'='.repeat(i % 50)}>${' '.repeat(50 - (i % 50))}] ${i}B/${UPDATES}B`;
          emit({
            status: 'Downloading',
            progressDetail: { current: i, total: UPDATES },
            progress,
            id: layer,
          });
          if (i % 500 === 0) await new Promise((r) => setImmediate(r));
        }
        emit({ status: 'Download complete', progressDetail: {}, id: layer });
        emit({ status: `Digest: sha256:${'ab'.repeat(32)}` });
        finished();
      },
    });
    const req = { method: 'POST', path: '/images/create?fromImage=a&tag=1' };
    const res = await openEngineStream(t.socket, req);
    res.pause();
    await jobDone;
    const body = readBody(res);
    res.resume();
    const lines = checkedResponse(req, res, await body).lines() as {
      status: string;
      progressDetail?: { current?: number };
    }[];
    const progress = lines.filter((l) => l.status === 'Downloading');
    // The socket takes some updates before it refuses more; the rest collapse into the latest one.
    expect(progress.length).toBeLessThan(UPDATES / 2);
    expect(progress.at(-1)?.progressDetail?.current).toBe(UPDATES);
    const currents = progress.map((l) => l.progressDetail?.current ?? 0);
    expect(currents).toEqual([...currents].sort((a, b) => a - b));
    expect(lines.filter((l) => l.status !== 'Downloading').map((l) => l.status)).toEqual([
      'Pulling from small',
      'Pulling fs layer',
      'Download complete',
      `Digest: sha256:${'ab'.repeat(32)}`,
    ]);
  });
});

/** Short enough for a test, with room for a burst that a reading client takes in one go. */
const TEST_LIMITS: StreamLimits = { maxWaiting: 64, stallMs: 300, hardMaxWaiting: 50_000 };

describe('a client that reads as fast as it can', () => {
  it('gets every line of a burst of 10,000 layers announced at once', async () => {
    t = await startServerHarness();
    const LAYERS = 10_000;
    const layerId = (i: number) => i.toString(16).padStart(12, '0');
    t.service.pullBehaviour = async () => ({
      async run(emit) {
        emit({ status: 'Pulling from big', id: '1' });
        for (let i = 0; i < LAYERS; i++)
          emit({ status: 'Pulling fs layer', progressDetail: {}, id: layerId(i) });
        for (let i = 0; i < LAYERS; i++) emit({ status: 'Waiting', progressDetail: {}, id: layerId(i) });
        await new Promise((r) => setImmediate(r));
        for (let i = 0; i < LAYERS; i++)
          emit({ status: 'Pull complete', progressDetail: {}, id: layerId(i) });
        emit({ status: `Digest: sha256:${'ab'.repeat(32)}` });
      },
    });
    const req = { method: 'POST', path: '/images/create?fromImage=big&tag=1' };
    const res = await openEngineStream(t.socket, req);
    const lines = checkedResponse(req, res, await readBody(res)).lines() as {
      status?: string;
      error?: string;
    }[];
    expect(lines.filter((l) => l.error !== undefined)).toEqual([]);
    expect(lines).toHaveLength(3 * LAYERS + 2);
    expect(lines.at(-1)?.status).toBe(`Digest: sha256:${'ab'.repeat(32)}`);
  });
});

describe('a pull stream whose client stops reading', () => {
  it('is cut off once lines wait longer than the stall time, with an error line and the job aborted', async () => {
    t = await startServerHarness({ streamLimits: TEST_LIMITS });
    let abortReason: unknown;
    const aborted = new Promise<void>((resolve) => {
      t!.service.pullBehaviour = async () => ({
        async run(emit, signal) {
          emit({ status: 'Pulling from small', id: '1' });
          signal.addEventListener('abort', () => {
            abortReason = signal.reason;
            resolve();
          });
          // Distinct lines, well past what the socket buffers, until the job is stopped.
          for (let i = 0; !signal.aborted && i < 1_000_000; i++) {
            emit({ status: `Step ${i} ${'x'.repeat(200)}` });
            if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
          }
          signal.throwIfAborted();
        },
      });
    });
    const req = { method: 'POST', path: '/images/create?fromImage=a&tag=1' };
    const res = await openEngineStream(t.socket, req);
    res.pause();
    await aborted;
    expect((abortReason as Error).message).toBe(STALLED_CLIENT_MESSAGE);
    const body = readBody(res);
    res.resume();
    const lines = checkedResponse(req, res, await body).lines() as { status?: string; error?: string }[];
    expect(lines.at(-1)).toEqual({
      errorDetail: { message: STALLED_CLIENT_MESSAGE },
      error: STALLED_CLIENT_MESSAGE,
    });
  });
});

describe('an event stream whose client stops reading', () => {
  it('is dropped once events wait longer than the stall time, instead of holding them all', async () => {
    t = await startServerHarness({ streamLimits: TEST_LIMITS });
    const events = t.service.events;
    const res = await openEngineStream(t.socket, { path: '/events' });
    res.pause();
    res.on('error', () => {});
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    const label = 'x'.repeat(1024);
    const now = Math.floor(Date.now() / 1000);
    const deadline = Date.now() + 10_000;
    for (let i = 0; Date.now() < deadline && events.listeners.size > 0; i++) {
      const event = imageEvent('tag', `127.0.0.1:5000/small:${i}`, now);
      event.Actor.Attributes['label'] = label;
      events.publish(event);
      if (i % 256 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    // The server gave up on the client: it stopped listening and closed the connection.
    expect(events.listeners.size).toBe(0);
    res.resume();
    await closed;
  });

  it('is dropped at once beyond the hard cap', async () => {
    t = await startServerHarness({ streamLimits: { maxWaiting: 64, stallMs: 60_000, hardMaxWaiting: 2048 } });
    const events = t.service.events;
    const res = await openEngineStream(t.socket, { path: '/events' });
    res.pause();
    res.on('error', () => {});
    const label = 'x'.repeat(1024);
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 20_000 && events.listeners.size > 0; i++) {
      const event = imageEvent('tag', `127.0.0.1:5000/small:${i}`, now);
      event.Actor.Attributes['label'] = label;
      events.publish(event);
      if (i % 256 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(events.listeners.size).toBe(0);
  });
});
