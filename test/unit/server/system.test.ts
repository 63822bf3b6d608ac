import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventMessage, SystemInfo, SystemVersion } from '../../../api-spec/types.ts';
import { checkedResponse, engineRequest, openEngineStream, readBody } from '../../helpers/openapi-check.ts';
import { imageEvent } from './fake-image-service.ts';
import { type ServerHarness, startServerHarness } from './harness.ts';

let t: ServerHarness;
beforeAll(async () => {
  t = await startServerHarness({
    config: {
      insecureRegistries: ['registry.lan:5000', '10.0.0.0/8'],
      registryMirrors: { 'docker.io': ['https://mirror.lan/'], '127.0.0.1:5000': ['http://127.0.0.1:5999/'] },
    },
  });
  t.service.events.publish(imageEvent('pull', '127.0.0.1:5000/small:1', 1000));
  t.service.events.publish(imageEvent('tag', '127.0.0.1:5000/other:2', 2000));
  t.service.events.publish(imageEvent('delete', 'sha256:abc', 3000));
});
afterAll(async () => {
  await t.close();
});

describe('JSON answers', () => {
  it('are typed plain application/json, as moby does (the docker CLI decodes errors only under that type)', async () => {
    const answers = [
      await engineRequest(t.socket, { path: '/v1.41/version' }),
      await engineRequest(t.socket, { path: '/images/json' }),
      await engineRequest(t.socket, { path: '/images/nope:1/json' }),
      await engineRequest(t.socket, { path: '/v1.12/version' }),
      await engineRequest(t.socket, { path: '/no/such/route' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 400, 404]);
    for (const answer of answers) expect(answer.headers['content-type']).toBe('application/json');
  });
});

describe('GET /version and /info', () => {
  it('describes the engine as the docker CLI reads it', async () => {
    const v = (await engineRequest(t.socket, { path: '/v1.41/version' })).json<SystemVersion>();
    expect(v).toMatchObject({ ApiVersion: '1.50', MinAPIVersion: '1.40', Os: 'linux', Version: '0.1.0' });
    expect(v.Components[0]).toMatchObject({
      Name: 'Engine',
      Details: { ApiVersion: '1.50', MinAPIVersion: '1.40' },
    });
  });

  it('reports images, the data root and the registry configuration', async () => {
    const info = (await engineRequest(t.socket, { path: '/info' })).json<SystemInfo>();
    expect(info.Images).toBe(1);
    expect(info.DockerRootDir).toBe(`${t.dir}/data`);
    expect(info.IndexServerAddress).toBe('https://index.docker.io/v1/');
    expect(info.RegistryConfig.InsecureRegistryCIDRs).toEqual(['127.0.0.0/8', '::1/128', '10.0.0.0/8']);
    expect(info.RegistryConfig.Mirrors).toEqual(['https://mirror.lan/']);
    expect(info.RegistryConfig.IndexConfigs['registry.lan:5000']).toEqual({
      Name: 'registry.lan:5000',
      Mirrors: [],
      Secure: false,
      Official: false,
    });
    expect(info.RegistryConfig.IndexConfigs['127.0.0.1:5000']?.Mirrors).toEqual(['http://127.0.0.1:5999/']);
    expect(info.RegistryConfig.IndexConfigs['docker.io']).toMatchObject({ Official: true, Secure: true });
  });
});

describe('POST /auth', () => {
  it('reads the AuthConfig from the JSON body (any key case) and clientAuth from the query', async () => {
    const res = await engineRequest(t.socket, {
      method: 'POST',
      path: '/v1.41/auth?clientAuth=true',
      body: { Username: 'testuser', password: 'pw', serveraddress: '127.0.0.1:5001', unknown: 1 },
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ Status: 'Login Succeeded' });
    expect(t.service.calls.login.at(-1)).toEqual({
      auth: { username: 'testuser', password: 'pw', serveraddress: '127.0.0.1:5001' },
      clientAuth: true,
    });
  });

  it('refuses a missing body, bad JSON and wrongly typed fields with 400 naming the field', async () => {
    const none = await engineRequest(t.socket, { method: 'POST', path: '/auth' });
    expect(none.status).toBe(400);
    expect(none.json<{ message: string }>().message).toBe('invalid POST /auth body: expected a JSON object');
    const badJson = await engineRequest(t.socket, { method: 'POST', path: '/auth', body: '{"username":' });
    expect(badJson.status).toBe(400);
    expect(badJson.json<{ message: string }>().message).toMatch(/^invalid JSON body/);
    const badField = await engineRequest(t.socket, { method: 'POST', path: '/auth', body: { password: 7 } });
    expect(badField.status).toBe(400);
    expect(badField.json<{ message: string }>().message).toBe(
      'invalid body field "password": must be string',
    );
  });
});

async function eventsUntil(query: string): Promise<EventMessage[]> {
  return (await engineRequest(t.socket, { path: `/v1.41/events?${query}` })).lines<EventMessage>();
}

describe('GET /events', () => {
  it('writes the format the Accept header asks for, application/json by default', async () => {
    const cases: [string | undefined, string][] = [
      [undefined, 'application/json'],
      ['*/*', 'application/json'],
      ['application/x-ndjson', 'application/x-ndjson'],
      ['application/jsonl;q=0.5, application/json-seq', 'application/json-seq'],
      ['text/html, application/jsonl', 'application/jsonl'],
      ['application/json-seq;q=0, application/json', 'application/json'],
    ];
    for (const [accept, type] of cases) {
      const res = await engineRequest(t.socket, {
        path: '/events?until=5000',
        ...(accept ? { headers: { accept } } : {}),
      });
      expect(res.headers['content-type']).toBe(type);
      const records = res.body.split('\n').filter((l) => l !== '');
      expect(records).toHaveLength(3);
      for (const record of records) expect(record.startsWith('\x1e')).toBe(type === 'application/json-seq');
      const events = records.map((r) => JSON.parse(r.replace(/^\x1e/, '')) as EventMessage);
      expect(events.map((e) => e.Action)).toEqual(['pull', 'tag', 'delete']);
    }
  });

  it('replays history within since/until and ends at until', async () => {
    const all = await eventsUntil('until=5000');
    expect(all.map((e) => e.Action)).toEqual(['pull', 'tag', 'delete']);
    expect(all[0]).toMatchObject({ id: '127.0.0.1:5000/small:1', status: 'pull', Type: 'image', time: 1000 });
    expect((await eventsUntil('since=1500&until=2500')).map((e) => e.Action)).toEqual(['tag']);
    expect((await eventsUntil('since=2000.5&until=3000')).map((e) => e.Action)).toEqual(['delete']);
  });

  it('filters by event, image, type and other-type keys', async () => {
    const f = (filters: object) =>
      eventsUntil(`until=5000&filters=${encodeURIComponent(JSON.stringify(filters))}`);
    expect((await f({ event: ['tag', 'delete'] })).map((e) => e.Action)).toEqual(['tag', 'delete']);
    expect((await f({ image: { '127.0.0.1:5000/small': true } })).map((e) => e.Action)).toEqual(['pull']);
    expect(await f({ type: ['container'] })).toEqual([]);
    expect(await f({ container: ['x'] })).toEqual([]);
    expect(await f({ type: ['image'], label: ['nope'] })).toEqual([]);
  });

  it("refuses since after until with moby's message, and bad filters", async () => {
    const res = await engineRequest(t.socket, { path: '/events?since=20&until=10' });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ message: '`since` time (20) cannot be after `until` time (10)' });
    const bad = await engineRequest(t.socket, { path: '/events?filters=nope' });
    expect(bad.status).toBe(400);
  });

  it('sends headers at once, then live events, until the client leaves', async () => {
    const req = { path: `/events?since=${Math.floor(Date.now() / 1000)}` };
    const res: IncomingMessage = await openEngineStream(t.socket, req);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const firstLine = new Promise<string>((resolve) =>
      res.once('data', (c: Buffer) => resolve(c.toString())),
    );
    const now = Math.floor(Date.now() / 1000) + 1;
    t.service.events.publish(imageEvent('push', '127.0.0.1:5000/small:1', now));
    const line = await firstLine;
    checkedResponse(req, res, line);
    expect(JSON.parse(line)).toMatchObject({ Action: 'push', time: now });
    res.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(t.service.events.listeners.size).toBe(0);
  });

  it('ends a live stream when until passes', async () => {
    const until = (Date.now() + 300) / 1000;
    const req = { path: `/events?since=4000&until=${until.toFixed(3)}` };
    const started = Date.now();
    const res = await openEngineStream(t.socket, req);
    const body = await readBody(res);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    checkedResponse(req, res, body);
  });
});
