import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeAuthConfig } from '../../../api-spec/auth-config.ts';
import { engineRequest } from '../../helpers/openapi-check.ts';
import { FakeImageService, SMALL_ID, smallInspect, smallSummary } from './fake-image-service.ts';
import { type ServerHarness, startServerHarness } from './harness.ts';

let t: ServerHarness;
beforeAll(async () => {
  t = await startServerHarness();
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => {
  for (const list of Object.values(t.service.calls)) list.length = 0;
  const fresh = new FakeImageService();
  t.service.images.clear();
  for (const [k, v] of fresh.images) t.service.images.set(k, v);
});

type Message = { message: string };

async function pull(query: string, headers: Record<string, string> = {}) {
  return engineRequest(t.socket, { method: 'POST', path: `/v1.50/images/create?${query}`, headers });
}

describe('image names containing / and :', () => {
  it('routes inspect, delete, tag and push by suffix, versioned or not', async () => {
    const inspect = await engineRequest(t.socket, { path: '/v1.41/images/127.0.0.1:5000/small:1/json' });
    expect(inspect.status).toBe(200);
    expect(inspect.json<{ Id: string }>().Id).toBe(SMALL_ID);

    const tag = await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/127.0.0.1:5000/small:1/tag?repo=127.0.0.1:5000/other/deep&tag=2',
    });
    expect(tag.status).toBe(201);
    expect(tag.body).toBe('');
    expect(t.service.calls.tag).toEqual([
      { name: '127.0.0.1:5000/small:1', repo: '127.0.0.1:5000/other/deep', tag: '2' },
    ]);

    const push = await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/127.0.0.1:5000/small/push?tag=1',
    });
    expect(push.status).toBe(200);
    expect(t.service.calls.push[0]).toMatchObject({
      name: '127.0.0.1:5000/small',
      tag: '1',
      clientAuth: false,
    });

    const del = await engineRequest(t.socket, {
      method: 'DELETE',
      path: '/v1.41/images/127.0.0.1:5000/small:1?force=1',
    });
    expect(del.status).toBe(200);
    expect(del.json()).toEqual([{ Untagged: '127.0.0.1:5000/small:1' }, { Deleted: SMALL_ID }]);
    expect(t.service.calls.remove).toEqual([
      { name: '127.0.0.1:5000/small:1', options: { force: true, noprune: false } },
    ]);
  });

  it('routes names whose last part is a route word, and percent-encoded names', async () => {
    t.service.images.set('json', { summary: smallSummary(), inspect: smallInspect() });
    const res = await engineRequest(t.socket, { path: '/images/json/json' });
    expect(res.status).toBe(200);
    const encoded = await engineRequest(t.socket, { path: '/images/127.0.0.1%3A5000%2Fsmall%3A1/json' });
    expect(encoded.status).toBe(200);
    const digest = `127.0.0.1:5000/a/very/long/repository/name/for/testing@sha256:${'0'.repeat(64)}`;
    const long = await engineRequest(t.socket, { path: `/images/${digest}/json` });
    expect(long.status).toBe(404);
    expect(long.json<Message>().message).toBe(`No such image: ${digest}`);
  });

  it('takes the tag from a pushed name when the tag parameter is empty, as moby does', async () => {
    await engineRequest(t.socket, { method: 'POST', path: '/images/127.0.0.1:5000/small:1/push' });
    expect(t.service.calls.push[0]).toMatchObject({ name: '127.0.0.1:5000/small', tag: '1' });
    await engineRequest(t.socket, { method: 'POST', path: '/images/127.0.0.1:5000/small/push' });
    expect(t.service.calls.push[1]).toMatchObject({ name: '127.0.0.1:5000/small' });
    expect(t.service.calls.push[1]?.tag).toBeUndefined();
  });

  it('maps the engine NotFoundError to 404 with its message', async () => {
    const res = await engineRequest(t.socket, { method: 'DELETE', path: '/images/nope:1' });
    expect(res.status).toBe(404);
    expect(res.json<Message>().message).toBe('No such image: nope:1');
  });
});

describe('POST /images/create', () => {
  it('merges tag into fromImage, lets tag carry a digest, and strips one trailing colon', async () => {
    const digest = `sha256:${'fe'.repeat(32)}`;
    await pull('fromImage=127.0.0.1%3A5000%2Fsmall&tag=1');
    await pull(`fromImage=127.0.0.1%3A5000%2Fsmall&tag=${encodeURIComponent(digest)}`);
    await pull('fromImage=127.0.0.1%3A5000%2Fsmall%3A2&tag=3');
    await pull(`fromImage=127.0.0.1%3A5000%2Fsmall%40${encodeURIComponent(digest)}&tag=9`);
    await pull('fromImage=127.0.0.1%3A5000%2Fsmall%3A');
    await pull('fromImage=alpine%3A3.20');
    expect(t.service.calls.pull.map((p) => p.reference)).toEqual([
      '127.0.0.1:5000/small:1',
      `127.0.0.1:5000/small@${digest}`,
      '127.0.0.1:5000/small:3',
      `127.0.0.1:5000/small@${digest}`,
      '127.0.0.1:5000/small',
      'alpine:3.20',
    ]);
  });

  it('streams the job as JSON lines with Content-Type application/json', async () => {
    const res = await pull('fromImage=127.0.0.1%3A5000%2Fsmall&tag=1');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body.endsWith('\r\n')).toBe(true);
    expect(res.lines<{ status: string }>().at(-1)?.status).toBe(
      'Status: Downloaded newer image for 127.0.0.1:5000/small:1',
    );
  });

  it('parses platform os[/arch[/variant]] into an OCI platform and refuses a bad one', async () => {
    await pull('fromImage=a&tag=1&platform=linux%2Farm64');
    await pull('fromImage=a&tag=1&platform=linux%2Farm%2Fv6');
    await pull('fromImage=a&tag=1&platform=linux%2Faarch64%2Fv8');
    await pull('fromImage=a&tag=1&platform=');
    expect(t.service.calls.pull.map((p) => p.platform)).toEqual([
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v6' },
      { os: 'linux', architecture: 'arm64' },
      undefined,
    ]);
    for (const bad of ['linux%2Farm64%2Fv8%2Fextra', 'linux%2F%2Fv8', 'l%20x']) {
      const res = await pull(`fromImage=a&tag=1&platform=${bad}`);
      expect(res.status).toBe(400);
      expect(res.json<Message>().message).toMatch(/^invalid platform "/);
    }
    expect(t.service.calls.pull).toHaveLength(4);
  });

  it('answers fromSrc with 501, a missing fromImage with 400, and a bad tag with 400', async () => {
    const imp = await pull('fromSrc=-&repo=x');
    expect(imp.status).toBe(501);
    expect(imp.json<Message>().message).toContain('fromSrc');
    const none = await pull('tag=1');
    expect(none.status).toBe(400);
    expect(none.json<Message>().message).toBe('either fromImage or fromSrc must be set');
    const badTag = await pull('fromImage=a&tag=no%20spaces');
    expect(badTag.status).toBe(400);
    expect(t.service.calls.pull).toEqual([]);
  });

  it('decodes X-Registry-Auth (base64url, padded or not, or standard base64) into the pull request', async () => {
    const auth = { username: 'u', password: 'p?>>', serveraddress: '127.0.0.1:5001' };
    const url = encodeAuthConfig(auth);
    const std = Buffer.from(JSON.stringify(auth)).toString('base64');
    expect(std).not.toBe(url);
    await pull('fromImage=a&tag=1', { 'X-Registry-Auth': url });
    await pull('fromImage=a&tag=1', { 'X-Registry-Auth': url.replace(/=+$/, '') });
    await pull('fromImage=a&tag=1', { 'X-Registry-Auth': std });
    await pull('fromImage=a&tag=1', { 'X-Registry-Auth': 'e30=' });
    expect(t.service.calls.pull.map((p) => p.auth)).toEqual([auth, auth, auth, {}]);
  });

  it('refuses an undecodable X-Registry-Auth with 400 and its reason instead of pulling anonymously', async () => {
    for (const bad of ['not base64!', Buffer.from('{"username":').toString('base64url'), 'W10=']) {
      const res = await pull('fromImage=a&tag=1', { 'X-Registry-Auth': bad });
      expect(res.status, bad).toBe(400);
      expect(res.json<Message>().message).toMatch(/^invalid X-Registry-Auth/);
    }
    expect(t.service.calls.pull).toEqual([]);
  });

  it('reads clientAuth as moby BoolValue: absent and "", 0, no, false, none (any case) are off', async () => {
    const off = ['', '0', 'no', 'false', 'none', 'FALSE', 'None', '%20no%20'];
    const on = ['1', 'true', 'yes', 'on', 'anything'];
    await pull('fromImage=a&tag=1');
    for (const v of [...off, ...on]) await pull(`fromImage=a&tag=1&clientAuth=${v}`);
    expect(t.service.calls.pull.map((p) => p.clientAuth)).toEqual([
      false,
      ...off.map(() => false),
      ...on.map(() => true),
    ]);
  });

  it('accepts and ignores the JSON body docker-modem repeats the options in', async () => {
    const res = await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/create?fromImage=127.0.0.1%3A5000%2Fsmall&tag=1',
      body: { fromImage: 'ignored', tag: 'ignored', extra: { nested: true } },
    });
    expect(res.status).toBe(200);
    expect(t.service.calls.pull[0]?.reference).toBe('127.0.0.1:5000/small:1');
    const plain = await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/create?fromImage=a&tag=1',
      headers: { 'content-type': 'text/plain', 'content-length': '0' },
    });
    expect(plain.status).toBe(200);
    const empty = await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/create?fromImage=a&tag=1',
      body: '',
    });
    expect(empty.status).toBe(200);
  });
});

describe('GET /images/json and inspect', () => {
  it('passes all, digests and filters (canonical and legacy JSON) to the engine', async () => {
    await engineRequest(t.socket, { path: '/images/json' });
    await engineRequest(t.socket, {
      path: `/images/json?all=1&digests=true&filters=${encodeURIComponent('{"reference":{"small":true},"dangling":{"false":true}}')}`,
    });
    await engineRequest(t.socket, {
      path: `/images/json?filters=${encodeURIComponent('{"label":["a=b"]}')}`,
    });
    expect(t.service.calls.list).toEqual([
      { all: false, digests: false, filters: {} },
      { all: true, digests: true, filters: { reference: ['small'], dangling: ['false'] } },
      { all: false, digests: false, filters: { label: ['a=b'] } },
    ]);
  });

  it('refuses filters that are not JSON with 400', async () => {
    const res = await engineRequest(t.socket, { path: '/images/json?filters=%7Bnope' });
    expect(res.status).toBe(400);
    expect(res.json<Message>().message).toBe('invalid filters: not valid JSON');
  });

  it('adds VirtualSize = Size for API < 1.44 only, on list and inspect', async () => {
    const old = await engineRequest(t.socket, { path: '/v1.43/images/json' });
    expect(old.json<{ VirtualSize?: number; Size: number }[]>()[0]).toMatchObject({ VirtualSize: 1049097 });
    const cur = await engineRequest(t.socket, { path: '/v1.44/images/json' });
    expect(cur.json<object[]>()[0]).not.toHaveProperty('VirtualSize');
    const unversioned = await engineRequest(t.socket, { path: '/images/json' });
    expect(unversioned.json<object[]>()[0]).not.toHaveProperty('VirtualSize');
    const oldInspect = await engineRequest(t.socket, { path: '/v1.41/images/127.0.0.1:5000/small:1/json' });
    expect(oldInspect.json()).toMatchObject({ VirtualSize: 1049097, Size: 1049097 });
    const inspect = await engineRequest(t.socket, { path: '/v1.50/images/127.0.0.1:5000/small:1/json' });
    expect(inspect.json()).not.toHaveProperty('VirtualSize');
  });

  it('answers a list the engine hands back again with the same JSON, in the shape of each version', async () => {
    const shared = [smallSummary()];
    const original = t.service.list;
    t.service.list = async () => shared;
    try {
      const paths = { '/v1.50/images/json': false, '/v1.43/images/json': true, '/images/json': false };
      for (const [path, old] of [...Object.entries(paths), ['/v1.41/images/json', true] as const]) {
        const res = await engineRequest(t.socket, { path });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('application/json');
        expect(res.json()).toEqual([old ? { ...smallSummary(), VirtualSize: 1049097 } : smallSummary()]);
      }
      // Another array (the images changed): its own JSON, not the cached one.
      t.service.list = async () => [];
      expect((await engineRequest(t.socket, { path: '/images/json' })).json()).toEqual([]);
    } finally {
      t.service.list = original;
    }
  });

  it('answers a long list with the bytes of JSON.stringify and a Content-Length, in each shape', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({
      ...smallSummary(),
      RepoTags: [`127.0.0.1:5000/many:${i}`],
      Labels: { note: `é ✓ 😀 ${i}` },
    }));
    const original = t.service.list;
    t.service.list = async () => many;
    try {
      for (const [path, shown] of [
        ['/images/json', many],
        ['/v1.43/images/json', many.map((s) => ({ ...s, VirtualSize: s.Size }))],
      ] as const) {
        const res = await engineRequest(t.socket, { path });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('application/json');
        expect(res.headers['transfer-encoding']).toBeUndefined();
        expect(res.headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(shown))));
        expect(res.body).toBe(JSON.stringify(shown));
      }
    } finally {
      t.service.list = original;
    }
  });
});

describe('tag, push parameters, prune and distribution', () => {
  it('takes a tag written in repo when tag is absent, and refuses an invalid tag', async () => {
    await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/127.0.0.1:5000/small:1/tag?repo=x%2Fy%3A7',
    });
    await engineRequest(t.socket, { method: 'POST', path: '/images/127.0.0.1:5000/small:1/tag?repo=x%2Fy' });
    expect(t.service.calls.tag).toEqual([
      { name: '127.0.0.1:5000/small:1', repo: 'x/y', tag: '7' },
      { name: '127.0.0.1:5000/small:1', repo: 'x/y', tag: undefined },
    ]);
    const bad = await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/127.0.0.1:5000/small:1/tag?repo=x&tag=-bad',
    });
    expect(bad.status).toBe(400);
  });

  it('parses push platform JSON and refuses malformed JSON', async () => {
    const platform = encodeURIComponent('{"os":"linux","architecture":"arm64","variant":"v8"}');
    await engineRequest(t.socket, { method: 'POST', path: `/images/r/push?tag=1&platform=${platform}` });
    expect(t.service.calls.push[0]?.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    const bad = await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/r/push?tag=1&platform=linux',
    });
    expect(bad.status).toBe(400);
    expect(bad.json<Message>().message).toBe('invalid platform: not valid JSON');
  });

  it('prunes with filters', async () => {
    const res = await engineRequest(t.socket, {
      method: 'POST',
      path: `/images/prune?filters=${encodeURIComponent('{"dangling":["true"]}')}`,
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ ImagesDeleted: null, SpaceReclaimed: 0 });
    expect(t.service.calls.prune).toEqual([{ dangling: ['true'] }]);
  });

  it('inspects a distribution reference with slashes, passing auth and clientAuth', async () => {
    const res = await engineRequest(t.socket, {
      path: '/v1.41/distribution/127.0.0.1:5000/small:1/json?clientAuth=1',
      headers: { 'X-Registry-Auth': encodeAuthConfig({ registrytoken: 'tok' }) },
    });
    expect(res.status).toBe(200);
    expect(t.service.calls.distribution).toEqual([
      { reference: '127.0.0.1:5000/small:1', mode: { auth: { registrytoken: 'tok' }, clientAuth: true } },
    ]);
  });
});
