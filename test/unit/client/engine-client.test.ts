import { afterEach, describe, expect, it } from 'vitest';
import { decodeAuthConfig, encodeAuthConfig } from '../../../api-spec/index.ts';
import {
  type AuthChallenge,
  AuthChallengeError,
  ClientClosedError,
  EngineApiError,
  EngineClient,
  InvalidAuthOptionError,
  InvalidReferenceError,
  type JSONMessage,
  StreamError,
} from '../../../client/index.ts';
import {
  answerChallenge,
  type FakeDaemon,
  type Route,
  sentAuth,
  startFakeDaemon,
  startStream,
  writeMessage,
} from './fake-daemon.ts';

const BEARER =
  'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull"';
const BASIC = 'Basic realm="registry"';

let daemon: FakeDaemon | undefined;
let client: EngineClient | undefined;

afterEach(async () => {
  await client?.close();
  await daemon?.close();
  client = undefined;
  daemon = undefined;
});

async function setup(route: Route, apiVersion?: string): Promise<EngineClient> {
  daemon = await startFakeDaemon(route, apiVersion === undefined ? {} : { apiVersion });
  client = new EngineClient({ socketPath: daemon.socketPath });
  return client;
}

function finishPull(res: Parameters<Route>[1]): void {
  startStream(res);
  writeMessage(res, { status: 'Pulling from team/app', id: '1' });
  writeMessage(res, { status: 'Digest: sha256:' + 'a'.repeat(64) });
  writeMessage(res, { status: 'Status: Downloaded newer image for registry.example.com/team/app:1' });
  res.end();
}

describe('EngineClient.pull', () => {
  it('sends the normalized reference and resolves with the digest and final status', async () => {
    const c = await setup((_req, res) => finishPull(res));
    const result = await c.pull('registry.example.com/team/app:1');
    expect(result).toEqual({
      digest: 'sha256:' + 'a'.repeat(64),
      status: 'Status: Downloaded newer image for registry.example.com/team/app:1',
    });
    const [call] = daemon!.calls();
    expect(call!.method).toBe('POST');
    expect(call!.url.pathname).toBe('/v1.50/images/create');
    expect(Object.fromEntries(call!.url.searchParams)).toEqual({
      fromImage: 'registry.example.com/team/app',
      tag: '1',
    });
    expect(call!.headers['x-registry-auth']).toBeUndefined();
  });

  it('pulls `latest` (not every tag) when the reference has no tag, and a digest as the tag', async () => {
    const c = await setup((_req, res) => finishPull(res));
    await c.pull('alpine');
    await c.pull(`alpine@sha256:${'b'.repeat(64)}`);
    const [first, second] = daemon!.calls();
    expect(first!.url.searchParams.get('fromImage')).toBe('docker.io/library/alpine');
    expect(first!.url.searchParams.get('tag')).toBe('latest');
    expect(second!.url.searchParams.get('tag')).toBe(`sha256:${'b'.repeat(64)}`);
  });

  it('refuses an invalid reference before any request', async () => {
    const c = await setup((_req, res) => finishPull(res));
    expect(() => c.pull('Not/Valid')).toThrow(InvalidReferenceError);
    expect(daemon!.calls()).toHaveLength(0);
  });

  it('resolves only once the stream has ended', async () => {
    let ended = false;
    const c = await setup(async (_req, res) => {
      startStream(res);
      writeMessage(res, { status: 'Pulling fs layer', id: 'l1', progressDetail: {} });
      await new Promise((r) => setTimeout(r, 150));
      writeMessage(res, { status: 'Pull complete', id: 'l1', progressDetail: {} });
      ended = true;
      res.end();
    });
    const seen: JSONMessage[] = [];
    await c.pull('127.0.0.1:5000/small:1', { onProgress: (m) => seen.push(m) });
    expect(ended).toBe(true);
    expect(seen.map((m) => m.status)).toEqual(['Pulling fs layer', 'Pull complete']);
  });

  it('rejects with StreamError on an errorDetail after progress', async () => {
    const c = await setup((_req, res) => {
      startStream(res);
      writeMessage(res, { status: 'Downloading', id: 'l1', progressDetail: { current: 1, total: 10 } });
      writeMessage(res, {
        errorDetail: { code: 500, message: 'blob verification failed' },
        error: 'blob verification failed',
      });
      res.end();
    });
    const err = await c.pull('127.0.0.1:5000/small:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamError);
    expect((err as StreamError).message).toBe('blob verification failed');
    expect((err as StreamError).code).toBe(500);
  });

  it('rejects on a bare legacy `error` message too', async () => {
    const c = await setup((_req, res) => {
      startStream(res);
      writeMessage(res, { error: 'manifest unknown' });
      res.end();
    });
    await expect(c.pull('127.0.0.1:5000/small:1')).rejects.toThrow(
      new StreamError('manifest unknown', undefined),
    );
  });

  it('keeps the headers and message of an HTTP error', async () => {
    const c = await setup((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json', 'x-trace': 't1' });
      res.end(JSON.stringify({ message: 'pull access denied for nothing' }));
    });
    const err = (await c.pull('127.0.0.1:5000/nothing:1').catch((e: unknown) => e)) as EngineApiError;
    expect(err).toBeInstanceOf(EngineApiError);
    expect(err.status).toBe(404);
    expect(err.message).toBe('pull access denied for nothing');
    expect(err.headers['x-trace']).toBe('t1');
  });

  it('cancels the request when the signal aborts, so the daemon sees the connection close', async () => {
    const c = await setup((_req, res) => {
      startStream(res);
      writeMessage(res, { status: 'Downloading', id: 'l1' });
      // Never ends by itself.
    });
    const controller = new AbortController();
    const pulling = c.pull('127.0.0.1:5000/small:1', {
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('user cancelled')),
    });
    await expect(pulling).rejects.toThrow('user cancelled');
    await daemon!.calls()[0]!.closed;
  });
});

describe('cancellation before the answer', () => {
  it('rejects with the signal reason while the daemon has not answered yet', async () => {
    const c = await setup(() => {
      // Never answers.
    });
    const controller = new AbortController();
    const pulling = c.pull('127.0.0.1:5000/small:1', { signal: controller.signal });
    await daemon!.waitForCalls(1);
    controller.abort(new Error('gave up waiting'));
    await expect(pulling).rejects.toThrow('gave up waiting');
    await daemon!.calls()[0]!.closed;
  });
});

describe('auth option', () => {
  const creds = { username: 'u', password: 'p+/?', serveraddress: 'registry.example.com' };

  it.each([
    ['auth', { auth: creds }],
    ['authconfig', { authconfig: creds }],
    ['authConfig', { authConfig: creds }],
    [
      'capitalised keys',
      { auth: { Username: 'u', Password: 'p+/?', ServerAddress: 'registry.example.com' } as never },
    ],
    ['dockerode {key}', { authconfig: { key: encodeAuthConfig(creds) } }],
    [
      'dockerode {base64} in std base64',
      { authconfig: { base64: Buffer.from(JSON.stringify(creds)).toString('base64') } },
    ],
  ])('reads %s into one X-Registry-Auth', async (_name, options) => {
    const c = await setup((_req, res) => finishPull(res));
    await c.pull('registry.example.com/team/app:1', options);
    expect(sentAuth(daemon!.calls()[0]!)).toEqual(creds);
  });

  it('fails loudly on two spellings at once or an undecodable key', async () => {
    const c = await setup((_req, res) => finishPull(res));
    expect(() => c.pull('a:1', { auth: creds, authconfig: creds })).toThrow(InvalidAuthOptionError);
    expect(() => c.pull('a:1', { authconfig: { key: '!!!' } })).toThrow(InvalidAuthOptionError);
  });
});

describe('challenge forwarding', () => {
  it('calls the handler with the parsed challenge and retries with clientAuth and the token', async () => {
    const c = await setup((req, res) => {
      if (!sentAuth(req)?.registrytoken) {
        answerChallenge(res, {
          registry: 'registry.example.com',
          repository: 'team/app',
          lines: [BEARER, BASIC],
        });
        return;
      }
      finishPull(res);
    });
    const seen: AuthChallenge[] = [];
    await c.pull('registry.example.com/team/app:1', {
      challengeHandler: async (challenge) => {
        seen.push(challenge);
        return { registrytoken: 'tok-1' };
      },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      registry: 'registry.example.com',
      repository: 'team/app',
      lines: [BEARER, BASIC],
      attempt: 1,
    });
    expect(seen[0]!.challenges.map((ch) => ({ scheme: ch.scheme, params: { ...ch.params } }))).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example.com/token',
          service: 'registry.example.com',
          scope: 'repository:team/app:pull',
        },
      },
      { scheme: 'basic', params: { realm: 'registry' } },
    ]);
    const [first, retry] = daemon!.calls();
    expect(first!.url.searchParams.get('clientAuth')).toBe('1');
    expect(retry!.url.searchParams.get('clientAuth')).toBe('1');
    expect(sentAuth(retry!)).toEqual({
      serveraddress: 'registry.example.com',
      registrytoken: 'tok-1',
      registrytokens: { 'registry.example.com': 'tok-1' },
    });
  });

  // node's http joins a repeated header into one comma-separated value: each line must stay apart.
  it.each([
    ['one line', [BEARER]],
    ['two lines', [BEARER, BASIC]],
  ])('reads the challenge from the headers when the body lacks it (%s)', async (_name, lines) => {
    const c = await setup((req, res) => {
      if (sentAuth(req)?.registrytoken) return finishPull(res);
      res.writeHead(401, {
        'content-type': 'application/json',
        'docker-registry-host': '127.0.0.1:5000',
        'www-authenticate': lines,
      });
      res.end(JSON.stringify({ message: 'authentication required' }));
    });
    const seen: AuthChallenge[] = [];
    await c.pull('127.0.0.1:5000/small:1', {
      challengeHandler: (ch) => {
        seen.push(ch);
        return { registrytoken: 't' };
      },
    });
    expect(seen[0]).toMatchObject({ registry: '127.0.0.1:5000', lines, repository: '' });
  });

  it('answers a challenge that ends a started stream, and the retry resumes', async () => {
    const c = await setup((req, res) => {
      startStream(res);
      if (!sentAuth(req)?.registrytoken) {
        writeMessage(res, { status: 'Pulling fs layer', id: 'l1', progressDetail: {} });
        writeMessage(res, {
          errorDetail: { code: 401, message: 'authentication required' },
          error: 'authentication required',
          aux: {
            authChallenge: {
              registry: 'mirror.example.com',
              repository: 'library/alpine',
              challenges: [BEARER],
            },
          },
        });
        res.end();
        return;
      }
      writeMessage(res, { status: 'Pull complete', id: 'l1', progressDetail: {} });
      res.end();
    });
    const progress: string[] = [];
    const seen: AuthChallenge[] = [];
    await c.pull('alpine:3.20', {
      onProgress: (m) => progress.push(m.status ?? m.error ?? '?'),
      challengeHandler: (ch) => {
        seen.push(ch);
        return { registrytoken: 'mirror-token' };
      },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      registry: 'mirror.example.com',
      repository: 'library/alpine',
      attempt: 1,
    });
    expect(seen[0]!.challenges[0]!.scheme).toBe('bearer');
    // The challenge message is the loop's business, not a progress event.
    expect(progress).toEqual(['Pulling fs layer', 'Pull complete']);
    expect(sentAuth(daemon!.calls()[1]!)?.registrytokens).toEqual({ 'mirror.example.com': 'mirror-token' });
  });

  it('accumulates tokens per host across rounds (a mirror, then the origin)', async () => {
    const c = await setup((req, res) => {
      const tokens = sentAuth(req)?.registrytokens ?? {};
      if (!tokens['mirror.example.com']) {
        answerChallenge(res, {
          registry: 'mirror.example.com',
          repository: 'library/alpine',
          lines: [BEARER],
        });
      } else if (!tokens['registry-1.docker.io']) {
        answerChallenge(res, {
          registry: 'registry-1.docker.io',
          repository: 'library/alpine',
          lines: [BEARER],
        });
      } else {
        finishPull(res);
      }
    });
    const attempts: number[] = [];
    await c.pull('alpine', {
      challengeHandler: (ch) => {
        attempts.push(ch.attempt);
        return { registrytoken: `token-for-${ch.registry}` };
      },
    });
    expect(attempts).toEqual([1, 2]);
    const last = sentAuth(daemon!.calls()[2]!);
    expect(last).toEqual({
      serveraddress: 'registry-1.docker.io',
      registrytoken: 'token-for-registry-1.docker.io',
      registrytokens: {
        'mirror.example.com': 'token-for-mirror.example.com',
        'registry-1.docker.io': 'token-for-registry-1.docker.io',
      },
    });
  });

  it('sends Basic credentials bound to the challenged host, next to the tokens of others', async () => {
    const c = await setup((req, res) => {
      const auth = sentAuth(req);
      if (!auth?.registrytokens) {
        answerChallenge(res, { registry: 'mirror.example.com', repository: 'x/y', lines: [BEARER] });
      } else if (!auth.password) {
        answerChallenge(res, { registry: 'origin.example.com:5000', repository: 'x/y', lines: [BASIC] });
      } else {
        finishPull(res);
      }
    });
    await c.pull('origin.example.com:5000/x/y:1', {
      challengeHandler: (ch) =>
        ch.challenges[0]!.scheme === 'basic'
          ? { username: 'me', password: 'secret' }
          : { registrytoken: 'mt' },
    });
    expect(sentAuth(daemon!.calls()[2]!)).toEqual({
      username: 'me',
      password: 'secret',
      serveraddress: 'origin.example.com:5000',
      registrytokens: { 'mirror.example.com': 'mt' },
    });
  });

  it('gives up after maxRounds answers with AuthChallengeError', async () => {
    const c = await setup((_req, res) =>
      answerChallenge(res, { registry: 'registry.example.com', repository: 'team/app', lines: [BEARER] }),
    );
    let calls = 0;
    const err = (await c
      .pull('registry.example.com/team/app:1', {
        maxRounds: 2,
        challengeHandler: () => {
          calls++;
          return { registrytoken: `t${calls}` };
        },
      })
      .catch((e: unknown) => e)) as AuthChallengeError;
    expect(err).toBeInstanceOf(AuthChallengeError);
    expect(err.reason).toBe('max-rounds');
    expect(err.attempt).toBe(3);
    expect(err.registry).toBe('registry.example.com');
    expect(err.lines).toEqual([BEARER]);
    expect(calls).toBe(2);
    expect(daemon!.calls()).toHaveLength(3);
  });

  it('defaults to three rounds', async () => {
    const c = await setup((_req, res) =>
      answerChallenge(res, { registry: 'registry.example.com', repository: 'team/app', lines: [BEARER] }),
    );
    let calls = 0;
    await expect(
      c.pull('registry.example.com/team/app:1', {
        challengeHandler: () => {
          calls++;
          return { registrytoken: 't' };
        },
      }),
    ).rejects.toBeInstanceOf(AuthChallengeError);
    expect(calls).toBe(3);
  });

  it('stops waiting for a handler when the signal aborts, and hands the handler that signal', async () => {
    const c = await setup((_req, res) =>
      answerChallenge(res, { registry: 'registry.example.com', repository: 'team/app', lines: [BEARER] }),
    );
    const controller = new AbortController();
    let handed: AbortSignal | undefined;
    const pulling = c.pull('registry.example.com/team/app:1', {
      signal: controller.signal,
      challengeHandler: (ch) => {
        handed = ch.signal;
        setTimeout(() => controller.abort(new Error('stop')), 20);
        return new Promise(() => {});
      },
    });
    await expect(pulling).rejects.toThrow('stop');
    expect(handed).toBe(controller.signal);
    expect(daemon!.calls()).toHaveLength(1);
  });

  it('gives up at once when the handler returns undefined', async () => {
    const c = await setup((_req, res) =>
      answerChallenge(res, { registry: 'registry.example.com', repository: 'team/app', lines: [BEARER] }),
    );
    let calls = 0;
    const err = (await c
      .pull('registry.example.com/team/app:1', {
        challengeHandler: () => {
          calls++;
          return undefined;
        },
      })
      .catch((e: unknown) => e)) as AuthChallengeError;
    expect(err).toBeInstanceOf(AuthChallengeError);
    expect(err.reason).toBe('declined');
    expect(err.challenge.challenges[0]!.params['realm']).toBe('https://auth.example.com/token');
    expect(calls).toBe(1);
    expect(daemon!.calls()).toHaveLength(1);
  });

  it('without a handler, sends no clientAuth and reports a challenge as AuthChallengeError', async () => {
    const c = await setup((_req, res) =>
      answerChallenge(res, { registry: 'registry.example.com', repository: 'team/app', lines: [BEARER] }),
    );
    const err = (await c
      .pull('registry.example.com/team/app:1')
      .catch((e: unknown) => e)) as AuthChallengeError;
    expect(err.reason).toBe('no-handler');
    expect(err.cause).toBeDefined();
    expect(daemon!.calls()[0]!.url.searchParams.has('clientAuth')).toBe(false);
  });

  it('treats a 401 without any challenge line as an ordinary error', async () => {
    const c = await setup((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json', 'docker-registry-host': 'r.example.com' });
      res.end(
        JSON.stringify({ message: 'refused', registry: 'r.example.com', repository: 'a', challenges: [] }),
      );
    });
    const handler = () => ({ registrytoken: 'x' });
    const err = await c.pull('r.example.com/a:1', { challengeHandler: handler }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineApiError);
    expect((err as EngineApiError).status).toBe(401);
  });

  it('works the same for push, distributionInspect and login', async () => {
    const c = await setup((req, res) => {
      const token =
        sentAuth(req)?.registrytoken ??
        (JSON.parse(req.body || '{}') as { registrytoken?: string }).registrytoken;
      if (!token) {
        answerChallenge(res, { registry: 'registry.example.com', repository: 'team/app', lines: [BEARER] });
        return;
      }
      if (req.url.pathname.endsWith('/push')) {
        startStream(res);
        writeMessage(res, { status: `1: digest: sha256:${'c'.repeat(64)} size: 528` });
        res.end();
      } else if (req.url.pathname.startsWith('/v1.50/distribution/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ Descriptor: { mediaType: 'm', digest: 'd', size: 1 }, Platforms: [] }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ Status: 'Login Succeeded' }));
      }
    });
    const challengeHandler = () => ({ registrytoken: 'tok' });
    expect(await c.push('registry.example.com/team/app:1', { challengeHandler })).toEqual({
      tag: '1',
      digest: `sha256:${'c'.repeat(64)}`,
      size: 528,
    });
    expect(
      (await c.distributionInspect('registry.example.com/team/app:1', { challengeHandler })).Descriptor
        .digest,
    ).toBe('d');
    expect(await c.login({ serveraddress: 'registry.example.com' }, { challengeHandler })).toEqual({
      Status: 'Login Succeeded',
    });
    const paths = daemon!.calls().map((r) => `${r.method} ${r.url.pathname}?${r.url.searchParams}`);
    expect(paths).toEqual([
      'POST /v1.50/images/registry.example.com/team/app/push?tag=1&clientAuth=1&authChannel=1',
      'POST /v1.50/images/registry.example.com/team/app/push?tag=1&clientAuth=1&authChannel=1',
      'GET /v1.50/distribution/registry.example.com/team/app:1/json?clientAuth=1',
      'GET /v1.50/distribution/registry.example.com/team/app:1/json?clientAuth=1',
      'POST /v1.50/auth?clientAuth=1',
      'POST /v1.50/auth?clientAuth=1',
    ]);
    expect(JSON.parse(daemon!.calls()[5]!.body)).toMatchObject({ registrytoken: 'tok' });
  });
});

describe('API version negotiation', () => {
  it('uses min(1.50, the daemon version)', async () => {
    const c = await setup((_req, res) => res.end('[]'), '1.45');
    await c.listImages();
    expect(daemon!.calls()[0]!.url.pathname).toBe('/v1.45/images/json');
    expect(await c.apiVersion()).toBe('1.45');
  });

  it('caps a newer daemon at 1.50 and pings once', async () => {
    const c = await setup((_req, res) => res.end('[]'), '1.56');
    await c.listImages();
    await c.listImages();
    expect(daemon!.calls().map((r) => r.url.pathname)).toEqual(['/v1.50/images/json', '/v1.50/images/json']);
    expect(daemon!.requests.filter((r) => r.url.pathname === '/_ping')).toHaveLength(1);
    expect(daemon!.requests[0]!.method).toBe('HEAD');
  });

  it('refuses a daemon older than 1.40', async () => {
    const c = await setup((_req, res) => res.end('[]'), '1.39');
    await expect(c.listImages()).rejects.toThrow(
      'API version 1.39 is not supported by this client: the minimum supported API version is 1.40',
    );
  });

  it('falls back to GET /_ping when HEAD fails', async () => {
    daemon = await startFakeDaemon((_req, res) => res.end('[]'), { apiVersion: '1.44', headPingStatus: 405 });
    client = new EngineClient({ socketPath: daemon.socketPath });
    expect(await client.apiVersion()).toBe('1.44');
    expect(daemon.requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      'HEAD /_ping',
      'GET /_ping',
    ]);
  });

  it('uses a pinned version without pinging', async () => {
    daemon = await startFakeDaemon((_req, res) => res.end('[]'));
    client = new EngineClient({ socketPath: daemon.socketPath, version: 'v1.41' });
    await client.listImages();
    expect(daemon.requests.map((r) => r.url.pathname)).toEqual(['/v1.41/images/json']);
  });
});

describe('image routes', () => {
  it('lists, inspects, tags, removes (an array), prunes', async () => {
    const c = await setup((req, res) => {
      const p = req.url.pathname;
      res.setHeader('content-type', 'application/json');
      if (p === '/v1.50/images/json') return res.end('[{"Id":"sha256:1"}]');
      if (p === '/v1.50/images/127.0.0.1:5000/small:1/json') return res.end('{"Id":"sha256:1"}');
      if (p.endsWith('/tag')) {
        res.statusCode = 201;
        return res.end();
      }
      if (req.method === 'DELETE') return res.end('[{"Untagged":"small:1"},{"Deleted":"sha256:1"}]');
      if (p === '/v1.50/images/prune') return res.end('{"ImagesDeleted":null,"SpaceReclaimed":0}');
      res.statusCode = 404;
      res.end('{"message":"page not found"}');
    });
    expect(await c.listImages({ all: true, filters: { dangling: ['true'] } })).toEqual([{ Id: 'sha256:1' }]);
    expect((await c.inspectImage('127.0.0.1:5000/small:1')).Id).toBe('sha256:1');
    await c.tagImage('sha256:1', 'other/name');
    expect(await c.removeImage('small:1', { force: true })).toEqual([
      { Untagged: 'small:1' },
      { Deleted: 'sha256:1' },
    ]);
    expect(await c.prune()).toEqual({ ImagesDeleted: null, SpaceReclaimed: 0 });
    const calls = daemon!.calls().map((r) => `${r.method} ${r.url.pathname}?${r.url.searchParams}`);
    expect(calls).toEqual([
      `GET /v1.50/images/json?all=1&filters=${encodeURIComponent('{"dangling":{"true":true}}')}`,
      'GET /v1.50/images/127.0.0.1:5000/small:1/json?',
      'POST /v1.50/images/sha256:1/tag?repo=docker.io%2Fother%2Fname&tag=latest',
      'DELETE /v1.50/images/small:1?force=1',
      'POST /v1.50/images/prune?',
    ]);
  });

  it('streams events as typed messages and closes the request when the loop ends', async () => {
    const c = await setup((_req, res) => {
      startStream(res);
      for (const action of ['pull', 'tag']) {
        res.write(
          `${JSON.stringify({ Type: 'image', Action: action, Actor: { ID: 'a', Attributes: {} }, scope: 'local', time: 1, timeNano: 1 })}\n`,
        );
      }
    });
    const actions: string[] = [];
    for await (const event of c.events({ since: 0 })) {
      actions.push(event.Action);
      if (actions.length === 2) break;
    }
    expect(actions).toEqual(['pull', 'tag']);
    expect(daemon!.calls()[0]!.url.searchParams.get('since')).toBe('0');
    await daemon!.calls()[0]!.closed;
  });

  it('decodes version and info', async () => {
    const c = await setup((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url.pathname.endsWith('/version') ? '{"ApiVersion":"1.50"}' : '{"Images":3}');
    });
    expect((await c.version()).ApiVersion).toBe('1.50');
    expect((await c.info()).Images).toBe(3);
    expect((await c.ping()).apiVersion).toBe('1.50');
  });
});

describe('close', () => {
  it('waits for a response still being read, then refuses new requests with ClientClosedError', async () => {
    let finish: (() => void) | undefined;
    const c = await setup((_req, res) => {
      startStream(res);
      writeMessage(res, { status: 'Downloading', id: 'l1' });
      finish = () => {
        writeMessage(res, { status: 'Pull complete', id: 'l1' });
        res.end();
      };
    });
    let progressed!: () => void;
    const firstMessage = new Promise<void>((resolve) => {
      progressed = resolve;
    });
    const statuses: string[] = [];
    const pulling = c.pull('127.0.0.1:5000/small:1', {
      onProgress: (m) => {
        statuses.push(m.status ?? '');
        progressed();
      },
    });
    await firstMessage;
    let closed = false;
    const closing = c.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    finish!();
    await closing;
    await pulling;
    expect(statuses).toEqual(['Downloading', 'Pull complete']);
    await expect(c.version()).rejects.toBeInstanceOf(ClientClosedError);
  });
});

describe('auth header encoding', () => {
  it('is base64url with padding, as Go and docker-modem send it', async () => {
    const c = await setup((_req, res) => finishPull(res));
    await c.pull('r.example.com/a:1', { auth: { username: 'u', password: '>>>???' } });
    const header = daemon!.calls()[0]!.headers['x-registry-auth'] as string;
    expect(header).toMatch(/^[A-Za-z0-9_-]+=*$/);
    expect(decodeAuthConfig(header)).toEqual({ username: 'u', password: '>>>???' });
  });
});
