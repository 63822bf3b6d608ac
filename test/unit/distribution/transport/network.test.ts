// network.ts: a request a registry sent elsewhere (a redirect target, a token realm) connects only to an address the
// address policy allows, resolved once where the connection is made. The resolver here is the test's: names it
// answers stand for hosts on the internet, and every address it gives is loopback or never contacted, so a
// refusal that failed would reach a local listener that counts it, not another machine.
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChallengeMemory } from '../../../../daemon/distribution/auth/challenge-memory.ts';
import { ClassicAuthorizer } from '../../../../daemon/distribution/auth/classic-authorizer.ts';
import type { Endpoint } from '../../../../daemon/distribution/endpoint.ts';
import { RedirectRefusedError } from '../../../../daemon/distribution/errors.ts';
import { RegistryTransport } from '../../../../daemon/distribution/transport/transport.ts';
import { RealmRefusedError, type ResolvedAddress, TokenCache } from '../../../../protocol/index.ts';
import { type FakeRegistry, startFakeRegistry } from '../fake-registry.ts';
import { request, stubAuthorizer } from '../stub-authorizer.ts';

const PUBLIC = { address: '198.51.100.7', family: 4 };
const LOOPBACK = { address: '127.0.0.1', family: 4 };
const METADATA = { address: '169.254.169.254', family: 4 };

let registry: FakeRegistry;
let elsewhere: FakeRegistry;
let transport: RegistryTransport;
const lookups: string[] = [];
/** What each name resolves to, one answer per lookup (the last one repeats): a TTL-0 name can change every time. */
let answers: Record<string, ResolvedAddress[][]>;

beforeEach(async () => {
  registry = await startFakeRegistry();
  elsewhere = await startFakeRegistry();
  lookups.length = 0;
  answers = { 'registry.test': [[LOOPBACK]] };
  transport = new RegistryTransport({
    limits: { retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 } },
    resolve: async (name) => {
      lookups.push(name);
      const list = answers[name] ?? [];
      const answer = list.length > 1 ? list.shift() : list[0];
      if (!answer) throw Object.assign(new Error(`no such host ${name}`), { code: 'ENOTFOUND' });
      return answer;
    },
  });
});
afterEach(async () => {
  await transport.close();
  await registry.close();
  await elsewhere.close();
});

/** A registry known by a name that resolves to a public address (reached, in the test, on loopback). */
function publicRegistry(): Endpoint {
  const host = `registry.test:${registry.host.split(':')[1]}`;
  return { host, origin: `http://${host}`, secure: false };
}

function classicAuthorizer(endpoint: Endpoint): ClassicAuthorizer {
  return new ClassicAuthorizer({
    auth: { username: 'someone', password: 'pa55word-secret' },
    credentialOrigin: endpoint.origin,
    memory: new ChallengeMemory(),
    tokens: new TokenCache(),
    fetchToken: (tokenRequest, at) => transport.tokens.fetch(tokenRequest, at),
    clientId: 'dockhand-test',
  });
}

describe('a redirect target', () => {
  it.each([
    ['(a GET, on a connection kept for the registry)', {}, undefined],
    ['(a large blob, on a connection the blob thread keeps)', { bulk: true }, undefined],
    ['(a PUT with a body, through undici)', { method: 'PUT' as const, body: () => 'layer' }, 'keep-alive'],
  ])(
    'that resolves to a public address for the check and to loopback for the connection gets no request %s',
    async (_, change, connection) => {
      const endpoint = publicRegistry();
      const target = `http://cdn.test:${elsewhere.host.split(':')[1]}/blob`;
      answers['cdn.test'] = [[PUBLIC], [LOOPBACK]];
      registry.handle((_req, res) => res.writeHead(307, { location: target }).end());
      const outcome = await transport
        .send(endpoint, stubAuthorizer(endpoint.origin), { ...request('/v2/r/blobs/x'), ...change })
        .catch((e: unknown) => e);
      expect(outcome).toBeInstanceOf(RedirectRefusedError);
      expect((outcome as RedirectRefusedError).reason).toContain('127.0.0.1 is a loopback address');
      expect((outcome as RedirectRefusedError).reason).toContain('cdn.test');
      expect(elsewhere.seen).toEqual([]);
      expect(lookups.filter((n) => n === 'cdn.test')).toHaveLength(2);
      // Which wire took the request to the registry: a kept connection sends no Connection header (HTTP/1.1 keeps
      // it by default), undici's pools say keep-alive.
      expect(registry.seen[0]?.headers.connection).toBe(connection);
    },
  );
});

describe('a token realm named by DNS', () => {
  it("that resolves to loopback gets no request, and the refusal is the realm policy's", async () => {
    const endpoint = publicRegistry();
    answers['auth.test'] = [[LOOPBACK]];
    const realm = `http://auth.test:${elsewhere.host.split(':')[1]}/token`;
    registry.handle((_req, res) =>
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="s"` }).end(),
    );
    elsewhere.handle((_req, res) => res.writeHead(200).end('{"token":"should-not-be-asked"}'));
    const outcome = await transport
      .send(endpoint, classicAuthorizer(endpoint), request('/v2/r/manifests/1'))
      .catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(RealmRefusedError);
    expect((outcome as RealmRefusedError).reason).toBe('loopback');
    expect((outcome as RealmRefusedError).realm).toBe(realm);
    expect(elsewhere.seen).toEqual([]);
    expect(registry.seen).toHaveLength(1);
    expect(lookups.filter((n) => n === 'auth.test')).toHaveLength(1);
  });

  it('that resolves to an allowed and a link-local address is still reached, at the allowed one', async () => {
    const endpoint = { host: registry.host, origin: registry.origin, secure: false };
    answers['auth.test'] = [[LOOPBACK, METADATA]];
    const realm = `http://auth.test:${elsewhere.host.split(':')[1]}/token`;
    registry.handle((req, res) => {
      if (req.headers.authorization === 'Bearer t0k3n-value') res.writeHead(200).end('ok');
      else res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="s"` }).end();
    });
    elsewhere.handle((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t0k3n-value"}'),
    );
    const response = await transport.send(
      endpoint,
      classicAuthorizer(endpoint),
      request('/v2/r/manifests/1'),
    );
    expect(await text(response.body)).toBe('ok');
    expect(elsewhere.seen.map((r) => r.path)).toEqual(['/token?service=s&account=someone']);
  });
});
