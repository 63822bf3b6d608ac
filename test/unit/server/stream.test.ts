// Streams are tied to their client and to the daemon's life: a disconnect or a shutdown aborts the job's signal.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_WAITING_MESSAGES } from '../../../daemon/server/message-writer.ts';
import { checkedResponse, openEngineStream, readBody } from '../../helpers/openapi-check.ts';
import { hangingJob, imageEvent } from './fake-image-service.ts';
import { startTestDaemon, type TestDaemon } from './harness.ts';

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

function firstChunk(res: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve) => res.once('data', (c: Buffer) => resolve(c.toString('utf8'))));
}

describe('stream lifetime', () => {
  it('aborts the job signal when the client disconnects mid-stream', async () => {
    t = await startTestDaemon();
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
    t = await startTestDaemon();
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
    t = await startTestDaemon();
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

describe('an event stream whose client stops reading', () => {
  it('is dropped once too many events wait, instead of holding them all', async () => {
    t = await startTestDaemon();
    const events = t.service.events;
    const res = await openEngineStream(t.socket, { path: '/events' });
    res.pause();
    res.on('error', () => {});
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    const label = 'x'.repeat(1024);
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < MAX_WAITING_MESSAGES * 4 && events.listeners.size > 0; i++) {
      const event = imageEvent('tag', `127.0.0.1:5000/small:${i}`, now);
      event.Actor.Attributes['label'] = label;
      events.publish(event);
      if (i % 256 === 0) await new Promise((r) => setImmediate(r));
    }
    // The server gave up on the client: it stopped listening and closed the connection.
    expect(events.listeners.size).toBe(0);
    res.resume();
    await closed;
  });
});
