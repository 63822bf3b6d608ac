// Streams are tied to their client and to the daemon's life: a disconnect or a shutdown aborts the job's signal.
import { afterEach, describe, expect, it } from 'vitest';
import { checkedResponse, openEngineStream, readBody } from '../../helpers/openapi-check.ts';
import { hangingJob } from './fake-image-service.ts';
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
