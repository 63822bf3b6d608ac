// Browsing edge cases a real registry will not produce on demand (no catalog API, links and redirects to other
// origins, oversized pages, handlers answering for another host), answered by msw over https origins.
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthChallenge,
  AuthChallengeError,
  CatalogNotGrantedError,
  CatalogUnsupportedError,
  type ChallengeHandler,
  inspectManifest,
  listRepositories,
  listTags,
  RegistryNotFoundError,
  RegistryResponseError,
  RepositoryAccessDeniedError,
} from '../../../../client/index.ts';
import { FetchDispatcher } from '../fetch-dispatcher.ts';

const REGISTRY = 'registry.example.com';
const ORIGIN = `https://${REGISTRY}`;
const OTHER = 'https://elsewhere.example.com';
const CHALLENGE = `Bearer realm="https://auth.example.com/token",service="${REGISTRY}",scope="registry:catalog:*"`;

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

interface Seen {
  url: string;
  authorization: string | null;
}

/** Records every request msw answers, in order. */
function record(): Seen[] {
  const seen: Seen[] = [];
  server.events.removeAllListeners();
  server.events.on('request:start', ({ request }) => {
    seen.push({ url: request.url, authorization: request.headers.get('authorization') });
  });
  return seen;
}

/** A handler that answers every challenge with token `t` for the registry, and keeps the challenges it saw. */
function tokenHandler(answer: Partial<Record<string, string>> = { registrytoken: 't' }) {
  const challenges: AuthChallenge[] = [];
  const handler: ChallengeHandler = (challenge) => {
    challenges.push(challenge);
    return answer;
  };
  return { handler, challenges };
}

const unauthorized = (line = CHALLENGE) =>
  HttpResponse.json(
    { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
    {
      status: 401,
      headers: { 'www-authenticate': line },
    },
  );

async function collect(names: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const name of names) out.push(name);
  return out;
}

async function failure(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}

const dispatcher = new FetchDispatcher();

describe('listRepositories', () => {
  it('answers one challenge, then sends the same token with every next page (relative links resolved)', async () => {
    const seen = record();
    server.use(
      http.get(`${ORIGIN}/v2/_catalog`, ({ request }) => {
        if (request.headers.get('authorization') !== 'Bearer t') return unauthorized();
        const last = new URL(request.url).searchParams.get('last');
        if (last === null) {
          return HttpResponse.json(
            { repositories: ['a', 'b'] },
            { headers: { link: '<?last=b&n=2>; rel="next"' } },
          );
        }
        if (last === 'b') {
          return HttpResponse.json(
            { repositories: ['c', 'd'] },
            { headers: { link: '</v2/_catalog?last=d&n=2>; rel=next' } },
          );
        }
        return HttpResponse.json({ repositories: ['e'] });
      }),
    );
    const { handler, challenges } = tokenHandler();
    const names = await collect(
      listRepositories(REGISTRY, { challengeHandler: handler, pageSize: 2, dispatcher }),
    );
    expect(names).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(challenges).toHaveLength(1);
    expect(challenges[0]).toMatchObject({
      registry: REGISTRY,
      repository: '',
      lines: [CHALLENGE],
      attempt: 1,
    });
    expect(seen.map((s) => [s.url, s.authorization])).toEqual([
      [`${ORIGIN}/v2/_catalog?n=2`, null],
      [`${ORIGIN}/v2/_catalog?n=2`, 'Bearer t'],
      [`${ORIGIN}/v2/_catalog?last=b&n=2`, 'Bearer t'],
      [`${ORIGIN}/v2/_catalog?last=d&n=2`, 'Bearer t'],
    ]);
  });

  it('asks again when the token runs out mid-listing, telling the handler the last one was refused', async () => {
    // JWT-shaped tokens granting the catalog, as distribution's token servers issue them.
    const jwt = (id: string) =>
      [
        '{"alg":"none"}',
        JSON.stringify({ jti: id, access: [{ type: 'registry', name: 'catalog', actions: ['*'] }] }),
        'sig',
      ]
        .map((part, i) => (i < 2 ? Buffer.from(part).toString('base64url') : part))
        .join('.');
    const [first, second] = [jwt('1'), jwt('2')];
    server.use(
      http.get(`${ORIGIN}/v2/_catalog`, ({ request }) => {
        const authorization = request.headers.get('authorization');
        const last = new URL(request.url).searchParams.get('last');
        if (last === null && authorization === `Bearer ${first}`) {
          return HttpResponse.json({ repositories: ['a'] }, { headers: { link: '<?last=a>; rel="next"' } });
        }
        if (last === 'a' && authorization === `Bearer ${second}`)
          return HttpResponse.json({ repositories: ['b'] });
        return unauthorized(authorization ? `${CHALLENGE},error="invalid_token"` : CHALLENGE);
      }),
    );
    const challenges: AuthChallenge[] = [];
    const handler: ChallengeHandler = (challenge) => {
      challenges.push(challenge);
      return { registrytoken: challenges.length === 1 ? first : second };
    };
    expect(await collect(listRepositories(REGISTRY, { challengeHandler: handler, dispatcher }))).toEqual([
      'a',
      'b',
    ]);
    expect(challenges.map((c) => c.attempt)).toEqual([1, 2]);
  });

  it('refuses a next link to another origin without sending anything there', async () => {
    const seen = record();
    server.use(
      http.get(`${ORIGIN}/v2/_catalog`, () =>
        HttpResponse.json(
          { repositories: ['a'] },
          { headers: { link: `<${OTHER}/v2/_catalog?last=a>; rel="next"` } },
        ),
      ),
    );
    const names: string[] = [];
    const error = await failure(
      (async () => {
        for await (const name of listRepositories(REGISTRY, { dispatcher })) names.push(name);
      })(),
    );
    expect(error).toBeInstanceOf(RegistryResponseError);
    expect(error).toMatchObject({ reason: 'link', registry: REGISTRY });
    expect((error as Error).message).toContain(OTHER);
    expect(names).toEqual(['a']);
    expect(seen.every((s) => s.url.startsWith(ORIGIN))).toBe(true);
  });

  it('refuses next links that go round in a circle', async () => {
    server.use(
      http.get(`${ORIGIN}/v2/_catalog`, ({ request }) => {
        const last = new URL(request.url).searchParams.get('last');
        return HttpResponse.json(
          { repositories: [last ?? 'first'] },
          { headers: { link: `</v2/_catalog?last=${last === 'x' ? 'y' : 'x'}>; rel="next"` } },
        );
      }),
    );
    expect(await failure(collect(listRepositories(REGISTRY, { dispatcher })))).toMatchObject({
      reason: 'link',
    });
  });

  it('says when the registry has no catalog API (404)', async () => {
    server.use(
      http.get(`${ORIGIN}/v2/_catalog`, () =>
        HttpResponse.json({ errors: [{ code: 'UNSUPPORTED', message: 'not here' }] }, { status: 404 }),
      ),
    );
    const error = await failure(collect(listRepositories(REGISTRY, { dispatcher })));
    expect(error).toBeInstanceOf(CatalogUnsupportedError);
    expect((error as Error).message).toMatch(/does not offer the catalog API/);
  });

  it('says the catalog is not granted on a 403 after answering, and on a second 401 without asking again', async () => {
    server.use(
      http.get(`${ORIGIN}/v2/_catalog`, ({ request }) =>
        request.headers.get('authorization') ? new HttpResponse(null, { status: 403 }) : unauthorized(),
      ),
    );
    expect(
      await failure(
        collect(listRepositories(REGISTRY, { challengeHandler: tokenHandler().handler, dispatcher })),
      ),
    ).toBeInstanceOf(CatalogNotGrantedError);
    server.use(
      http.get(`${ORIGIN}/v2/_catalog`, () => unauthorized(`${CHALLENGE},error="insufficient_scope"`)),
    );
    const { handler, challenges } = tokenHandler();
    const error = await failure(
      collect(listRepositories(REGISTRY, { challengeHandler: handler, dispatcher })),
    );
    expect(error).toBeInstanceOf(CatalogNotGrantedError);
    expect(error).toMatchObject({ status: 401, registry: REGISTRY });
    expect((error as Error).message).toContain('registry:catalog:* not granted');
    expect(challenges).toHaveLength(1);
  });

  it('refuses a page over the size bound', async () => {
    const big = JSON.stringify({
      repositories: Array.from({ length: 300_000 }, (_, i) => `repository-${i}`),
    });
    server.use(
      http.get(
        `${ORIGIN}/v2/_catalog`,
        () => new HttpResponse(big, { headers: { 'content-type': 'application/json' } }),
      ),
    );
    expect(await failure(collect(listRepositories(REGISTRY, { dispatcher })))).toMatchObject({
      reason: 'too-large',
    });
  });

  it('refuses a page that is not a list of names', async () => {
    server.use(http.get(`${ORIGIN}/v2/_catalog`, () => HttpResponse.json({ repositories: [1, 2] })));
    expect(await failure(collect(listRepositories(REGISTRY, { dispatcher })))).toMatchObject({
      reason: 'body',
    });
  });

  it('gives up with AuthChallengeError when there is no handler or it answers for another registry', async () => {
    const seen = record();
    server.use(http.get(`${ORIGIN}/v2/_catalog`, () => unauthorized()));
    expect(await failure(collect(listRepositories(REGISTRY, { dispatcher })))).toMatchObject({
      name: 'AuthChallengeError',
      reason: 'no-handler',
    });
    const elsewhere = tokenHandler({ serveraddress: 'other.example.com', registrytoken: 'secret' });
    const error = await failure(
      collect(listRepositories(REGISTRY, { challengeHandler: elsewhere.handler, dispatcher })),
    );
    expect(error).toBeInstanceOf(AuthChallengeError);
    expect(error).toMatchObject({ reason: 'declined' });
    expect(seen.map((s) => s.authorization)).toEqual([null, null]);
  });
});

describe('listTags', () => {
  it("answers a Basic challenge with the handler's username and password", async () => {
    server.use(
      http.get(`${ORIGIN}/v2/team/app/tags/list`, ({ request }) =>
        request.headers.get('authorization') === `Basic ${Buffer.from('u:p').toString('base64')}`
          ? HttpResponse.json({ name: 'team/app', tags: ['1', '2'] })
          : unauthorized('Basic realm="registry"'),
      ),
    );
    const { handler, challenges } = tokenHandler({ username: 'u', password: 'p' });
    expect(
      await collect(listTags(`${REGISTRY}/team/app`, { challengeHandler: handler, dispatcher })),
    ).toEqual(['1', '2']);
    expect(challenges[0]).toMatchObject({ repository: 'team/app' });
  });

  it('reads `tags: null` as no tags, and names a missing or refused repository', async () => {
    server.use(
      http.get(`${ORIGIN}/v2/empty/tags/list`, () => HttpResponse.json({ name: 'empty', tags: null })),
    );
    expect(await collect(listTags(`${REGISTRY}/empty`, { dispatcher }))).toEqual([]);
    server.use(
      http.get(`${ORIGIN}/v2/gone/tags/list`, () =>
        HttpResponse.json(
          { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known' }] },
          { status: 404 },
        ),
      ),
    );
    expect(await failure(collect(listTags(`${REGISTRY}/gone`, { dispatcher })))).toMatchObject({
      name: 'RegistryNotFoundError',
      code: 'NAME_UNKNOWN',
    });
    server.use(http.get(`${ORIGIN}/v2/secret/tags/list`, () => new HttpResponse(null, { status: 403 })));
    const error = await failure(collect(listTags(`${REGISTRY}/secret`, { dispatcher })));
    expect(error).toBeInstanceOf(RepositoryAccessDeniedError);
    expect(error).toMatchObject({ repository: 'secret' });
  });

  it('refuses a reference with a tag', async () => {
    expect(await failure(collect(listTags(`${REGISTRY}/team/app:1`, { dispatcher })))).toMatchObject({
      name: 'InvalidReferenceError',
    });
  });
});

describe('inspectManifest', () => {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${'a'.repeat(64)}`,
      size: 10,
    },
    layers: [
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: `sha256:${'b'.repeat(64)}`,
        size: 20,
      },
    ],
  });

  it('follows a redirect to another origin without the credential', async () => {
    const seen = record();
    server.use(
      http.get(`${ORIGIN}/v2/team/app/manifests/1`, ({ request }) =>
        request.headers.get('authorization')
          ? new HttpResponse(null, { status: 307, headers: { location: `${OTHER}/m` } })
          : unauthorized(),
      ),
      http.get(
        `${OTHER}/m`,
        () =>
          new HttpResponse(manifest, {
            headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
          }),
      ),
    );
    const inspected = await inspectManifest(`${REGISTRY}/team/app:1`, {
      challengeHandler: tokenHandler().handler,
      dispatcher,
    });
    expect(inspected).toMatchObject({ kind: 'manifest', totalSize: 30, layers: [{ size: 20 }] });
    expect(seen.map((s) => [s.url, s.authorization])).toEqual([
      [`${ORIGIN}/v2/team/app/manifests/1`, null],
      [`${ORIGIN}/v2/team/app/manifests/1`, 'Bearer t'],
      [`${OTHER}/m`, null],
    ]);
  });

  it('refuses content whose digest is not the one asked for', async () => {
    const asked = `sha256:${'c'.repeat(64)}`;
    server.use(
      http.get(
        `${ORIGIN}/v2/team/app/manifests/${asked}`,
        () =>
          new HttpResponse(manifest, {
            headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
          }),
      ),
    );
    const error = await failure(inspectManifest(`${REGISTRY}/team/app@${asked}`, { dispatcher }));
    expect(error).toMatchObject({ name: 'RegistryResponseError', reason: 'body' });
    expect((error as Error).message).toContain(asked);
  });

  it('names a missing manifest', async () => {
    server.use(
      http.get(`${ORIGIN}/v2/team/app/manifests/9`, () =>
        HttpResponse.json(
          { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] },
          { status: 404 },
        ),
      ),
    );
    const error = await failure(inspectManifest(`${REGISTRY}/team/app:9`, { dispatcher }));
    expect(error).toBeInstanceOf(RegistryNotFoundError);
    expect(error).toMatchObject({ code: 'MANIFEST_UNKNOWN', resource: 'manifest team/app:9' });
  });
});
