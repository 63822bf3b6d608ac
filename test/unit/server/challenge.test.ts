// clientAuth: a registry challenge reaches the client as HTTP 401 before any stream byte, with every
// WWW-Authenticate line copied byte for byte (read here from the raw socket), or as the stream's last line once started.
import { connect } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeAuthConfig } from '../../../api-spec/auth-config.ts';
import { NotFoundError, RegistryChallengeError, UnauthorizedError } from '../../../daemon/errors.ts';
import { assertConforms, engineRequest } from '../../helpers/openapi-check.ts';
import { FakeImageService, STANDARD_PULL, scriptedJob } from './fake-image-service.ts';
import { type ServerHarness, startServerHarness } from './harness.ts';

// Real shapes (distribution's token and htpasswd challenges), plus a line with odd spacing, a tab and a quoted comma
// that any re-serialisation would normalise.
const LINES = [
  'Bearer realm="http://127.0.0.1:5002/token",service="trial-registry",scope="repository:small:pull"',
  'Basic realm="Registry Realm"',
  'Bearer  realm = "http://a/b,c" ,\terror="insufficient_scope"',
];

function challenge(lines = LINES): RegistryChallengeError {
  return new RegistryChallengeError(
    '127.0.0.1:5002',
    'small',
    lines,
    'authentication required by registry 127.0.0.1:5002 for repository small',
  );
}

interface RawResponse {
  bytes: Buffer;
  statusLine: string;
  headerLines: string[];
  headers: Record<string, string[]>;
  body: string;
}

/** Writes a raw HTTP/1.1 request and returns exactly the bytes that came back. */
function rawExchange(socketPath: string, request: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const split = bytes.indexOf('\r\n\r\n');
      const head = bytes.subarray(0, split).toString('latin1').split('\r\n');
      const headers: Record<string, string[]> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).toLowerCase();
        headers[name] = [...(headers[name] ?? []), line.slice(colon + 1).replace(/^ /, '')];
      }
      resolve({
        bytes,
        statusLine: head[0] ?? '',
        headerLines: head.slice(1),
        headers,
        body: bytes.subarray(split + 4).toString('utf8'),
      });
    });
    socket.write(request);
  });
}

function rawPost(path: string, extraHeaders = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: api.moby.localhost\r\nContent-Length: 0\r\n${extraHeaders}Connection: close\r\n\r\n`;
}

function conforms(method: string, path: string, raw: RawResponse): void {
  const status = Number(raw.statusLine.split(' ')[1]);
  assertConforms({ method, path, status, headers: raw.headers, body: raw.body });
}

let t: ServerHarness;
beforeAll(async () => {
  t = await startServerHarness();
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => {
  const fresh = new FakeImageService();
  t.service.pullBehaviour = fresh.pullBehaviour;
  t.service.pushBehaviour = fresh.pushBehaviour;
  t.service.loginBehaviour = fresh.loginBehaviour;
  t.service.distributionBehaviour = fresh.distributionBehaviour;
});

describe('a challenge before the stream', () => {
  const path = '/v1.50/images/create?fromImage=127.0.0.1%3A5002%2Fsmall&tag=1&clientAuth=1';

  it('answers 401 first thing on the socket, each WWW-Authenticate line separate and byte for byte', async () => {
    t.service.pullBehaviour = async () => {
      throw challenge();
    };
    const raw = await rawExchange(t.socket, rawPost(path));
    expect(raw.bytes.subarray(0, 26).toString('latin1')).toBe('HTTP/1.1 401 Unauthorized\r');
    const wwwLines = raw.headerLines.filter((l) => /^www-authenticate:/i.test(l));
    expect(wwwLines.map((l) => l.slice(l.indexOf(':') + 2))).toEqual(LINES);
    // Byte for byte: each line appears verbatim in the raw head.
    for (const line of LINES) expect(raw.bytes.includes(Buffer.from(`: ${line}\r\n`, 'latin1'))).toBe(true);
    expect(raw.headers['docker-registry-host']).toEqual(['127.0.0.1:5002']);
    expect(raw.headers['api-version']).toEqual(['1.50']);
    expect(JSON.parse(raw.body)).toEqual({
      message: 'authentication required by registry 127.0.0.1:5002 for repository small',
      registry: '127.0.0.1:5002',
      repository: 'small',
      challenges: LINES,
    });
    expect(raw.body).not.toContain('status');
    conforms('POST', path, raw);
  });

  it('also answers 401 when the job raises the challenge before emitting anything', async () => {
    t.service.pullBehaviour = async () => ({
      async run() {
        throw challenge(LINES.slice(0, 2));
      },
    });
    const raw = await rawExchange(t.socket, rawPost(path));
    expect(raw.statusLine).toBe('HTTP/1.1 401 Unauthorized');
    expect(raw.headers['www-authenticate']).toEqual(LINES.slice(0, 2));
    conforms('POST', path, raw);
  });

  it('answers a challenge without lines with 401, its message, Docker-Registry-Host and no WWW-Authenticate', async () => {
    t.service.pullBehaviour = async () => {
      throw challenge([]);
    };
    const raw = await rawExchange(t.socket, rawPost(path));
    expect(raw.statusLine).toBe('HTTP/1.1 401 Unauthorized');
    expect(raw.headers['www-authenticate']).toBeUndefined();
    expect(raw.headers['docker-registry-host']).toEqual(['127.0.0.1:5002']);
    expect(JSON.parse(raw.body)).toMatchObject({ registry: '127.0.0.1:5002', challenges: [] });
    conforms('POST', path, raw);
  });

  it('hands the retry credentials (registrytoken, per-host registrytokens) to the engine', async () => {
    const auth = {
      registrytoken: 'tok-1',
      serveraddress: '127.0.0.1:5002',
      registrytokens: { '127.0.0.1:5003': 'tok-2' },
    };
    const res = await engineRequest(t.socket, {
      method: 'POST',
      path,
      headers: { 'X-Registry-Auth': encodeAuthConfig(auth) },
    });
    expect(res.status).toBe(200);
    expect(t.service.calls.pull.at(-1)).toMatchObject({ auth, clientAuth: true });
  });

  it('forwards challenges from push, distribution inspect and login the same way', async () => {
    t.service.pushBehaviour = async () => {
      throw challenge();
    };
    t.service.distributionBehaviour = async () => {
      throw challenge();
    };
    t.service.loginBehaviour = async () => {
      throw challenge();
    };
    const cases = [
      { method: 'POST', path: '/images/127.0.0.1:5002/small/push?tag=1&clientAuth=1' },
      { method: 'GET', path: '/v1.41/distribution/127.0.0.1:5002/small:1/json?clientAuth=1' },
    ];
    for (const c of cases) {
      const raw = await rawExchange(
        t.socket,
        `${c.method} ${c.path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      expect(raw.statusLine, c.path).toBe('HTTP/1.1 401 Unauthorized');
      expect(raw.headers['www-authenticate']).toEqual(LINES);
      conforms(c.method, c.path, raw);
    }
    const login = await engineRequest(t.socket, {
      method: 'POST',
      path: '/auth?clientAuth=1',
      body: { serveraddress: '127.0.0.1:5002' },
    });
    expect(login.status).toBe(401);
    expect(login.json()).toMatchObject({ registry: '127.0.0.1:5002', challenges: LINES });
    expect(t.service.calls.login.at(-1)).toEqual({
      auth: { serveraddress: '127.0.0.1:5002' },
      clientAuth: true,
    });
  });

  it('keeps a plain 401 (no challenge) as {"message"} without challenge headers', async () => {
    t.service.loginBehaviour = async () => {
      throw new UnauthorizedError(
        'login attempt to http://127.0.0.1:5001/v2/ failed with status: 401 Unauthorized',
      );
    };
    const res = await engineRequest(t.socket, { method: 'POST', path: '/auth', body: { username: 'u' } });
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({
      message: 'login attempt to http://127.0.0.1:5001/v2/ failed with status: 401 Unauthorized',
    });
    expect(res.headers['docker-registry-host']).toBeUndefined();
  });
});

describe('errors once the stream started', () => {
  it('ends the stream with errorDetail code 401 and aux.authChallenge for a late challenge', async () => {
    t.service.pullBehaviour = async () => scriptedJob(STANDARD_PULL.slice(0, 3), challenge());
    const res = await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/create?fromImage=127.0.0.1%3A5002%2Fsmall&tag=1&clientAuth=1',
    });
    expect(res.status).toBe(200);
    const lines = res.body.split('\r\n').filter((l) => l !== '');
    expect(lines.slice(0, 3).map((l) => JSON.parse(l))).toEqual(STANDARD_PULL.slice(0, 3));
    expect(JSON.parse(lines[3]!)).toEqual({
      errorDetail: {
        code: 401,
        message: 'authentication required by registry 127.0.0.1:5002 for repository small',
      },
      error: 'authentication required by registry 127.0.0.1:5002 for repository small',
      aux: { authChallenge: { registry: '127.0.0.1:5002', repository: 'small', challenges: LINES } },
    });
    expect(lines).toHaveLength(4);
  });

  it('ends the stream with moby FormatError shape for other failures, and uses HTTP statuses before it', async () => {
    t.service.pullBehaviour = async () => scriptedJob(STANDARD_PULL.slice(0, 1), new Error('unexpected EOF'));
    const res = await engineRequest(t.socket, { method: 'POST', path: '/images/create?fromImage=a&tag=1' });
    expect(res.status).toBe(200);
    expect(res.lines().at(-1)).toEqual({
      errorDetail: { message: 'unexpected EOF' },
      error: 'unexpected EOF',
    });

    t.service.pullBehaviour = async () => {
      throw new NotFoundError('manifest for 127.0.0.1:5000/nope:1 not found: manifest unknown');
    };
    const missing = await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/create?fromImage=a&tag=1',
    });
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({
      message: 'manifest for 127.0.0.1:5000/nope:1 not found: manifest unknown',
    });

    t.service.pushBehaviour = async () => {
      throw new Error('disk on fire');
    };
    const broken = await engineRequest(t.socket, { method: 'POST', path: '/images/x/push?tag=1' });
    expect(broken.status).toBe(500);
    expect(broken.json()).toEqual({ message: 'disk on fire' });
  });

  it('answers 200 with an empty stream when the job finishes without a message', async () => {
    t.service.pullBehaviour = async () => scriptedJob([]);
    const res = await engineRequest(t.socket, { method: 'POST', path: '/images/create?fromImage=a&tag=1' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
  });
});
