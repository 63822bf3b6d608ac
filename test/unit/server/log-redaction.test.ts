// No credential reaches a log line: requests carrying secrets go through the real server at trace level, and every
// captured line is searched for them.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAuthConfig } from '../../../api-spec/auth-config.ts';
import { createLogger } from '../../../daemon/log.ts';
import { engineRequest } from '../../helpers/openapi-check.ts';
import { type ServerHarness, startServerHarness } from './harness.ts';

const SECRETS = {
  password: 'S3cret-pass-word',
  identitytoken: 'identity-T0ken-value',
  registrytoken: 'registry-T0ken-value',
  mapped: 'per-host-T0ken-value',
  bearer: 'authorization-header-T0ken',
};

let t: ServerHarness;
beforeAll(async () => {
  t = await startServerHarness({ config: { logLevel: 'trace' } });
});
afterAll(async () => {
  await t.close();
});

describe('log redaction', () => {
  it('never writes X-Registry-Auth, Authorization or POST /auth secrets, while logging the requests', async () => {
    const header = encodeAuthConfig({
      username: 'alice',
      password: SECRETS.password,
      registrytoken: SECRETS.registrytoken,
      registrytokens: { '127.0.0.1:5003': SECRETS.mapped },
    });
    await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/create?fromImage=a&tag=1&clientAuth=1',
      headers: {
        'X-Registry-Auth': header,
        Authorization: `Bearer ${SECRETS.bearer}`,
        'User-Agent': 'redaction-test',
      },
    });
    await engineRequest(t.socket, {
      method: 'POST',
      path: '/images/a/push?tag=1',
      headers: { 'X-Registry-Auth': `${header}!` },
    });
    await engineRequest(t.socket, {
      method: 'POST',
      path: '/v1.41/auth',
      body: { username: 'alice', password: SECRETS.password, identitytoken: SECRETS.identitytoken },
    });
    await engineRequest(t.socket, { method: 'POST', path: '/auth', body: { password: 12 } });

    const text = t.logs.join('\n');
    // The requests were logged, with their ids and non-secret headers, so redaction (not silence) is what is tested.
    expect(text).toContain('redaction-test');
    expect(text).toContain('"x-registry-auth":"[REDACTED]"');
    expect(text).toContain('"authorization":"[REDACTED]"');
    expect(t.logs.every((l) => typeof JSON.parse(l).reqId === 'string' || !l.includes('"req"'))).toBe(true);
    for (const secret of [...Object.values(SECRETS), header]) expect(text).not.toContain(secret);
  });

  it('censors secret keys nested in logged objects, at any of the covered depths', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _e, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    logger.info({
      password: 'p0',
      creds: { password: 'p1', token: 'p2', nested: { refresh_token: 'p3', deeper: { access_token: 'p4' } } },
      registrytokens: { h: 'p5' },
      ok: 'visible',
    });
    const text = lines.join('');
    expect(text).toContain('visible');
    for (const s of ['p0', 'p1', 'p2', 'p3', 'p4', 'p5']) expect(text).not.toContain(`"${s}"`);
  });
});

describe('request logging at info', () => {
  it('writes nothing for successful requests and an error line with the request id for a 500', async () => {
    const quiet = await startServerHarness({ config: { logLevel: 'info' } });
    try {
      quiet.service.pushBehaviour = async () => {
        throw new Error('disk on fire');
      };
      const before = quiet.logs.length;
      await engineRequest(quiet.socket, { path: '/_ping' });
      await engineRequest(quiet.socket, { path: '/images/json' });
      expect(quiet.logs.slice(before)).toEqual([]);
      const res = await engineRequest(quiet.socket, { method: 'POST', path: '/images/x/push?tag=1' });
      expect(res.status).toBe(500);
      const lines = quiet.logs.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
      const failed = lines.find((l) => l['msg'] === 'request failed');
      expect(failed).toMatchObject({ level: 50, err: { message: 'disk on fire' } });
      expect(failed?.['reqId']).toMatch(/^[0-9a-f]{6}-[0-9a-z]+$/);
    } finally {
      await quiet.close();
    }
  });
});
