// RepositoryClient.listTags against an in-process registry that pages its tags list as distribution 3, Harbor and
// Docker Hub do (`?n=` and a `Link: <…>; rel="next"` header); Debian's registry 2.8 ignores `n`, so the e2e test
// cannot reach the Link path.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryAccess } from '../../../daemon/distribution/registry-access.ts';

const TAGS = ['a', 'b', 'c', 'd', 'e'];
let server: Server;
let host: string;
let access: RegistryAccess;
const asked: string[] = [];
/** What the next answers' Link header says, per test. */
let linkFor: (last: string, n: number) => string | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v2/') return res.writeHead(200).end('{}');
    if (url.pathname === '/v2/repo/nulls/tags/list') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"name":"repo/nulls","tags":null}');
    }
    asked.push(`${url.pathname}${url.search}`);
    const n = Number(url.searchParams.get('n') ?? TAGS.length);
    const last = url.searchParams.get('last');
    const start = last ? TAGS.indexOf(last) + 1 : 0;
    const page = TAGS.slice(start, start + n);
    const link = start + n < TAGS.length ? linkFor(page.at(-1) as string, n) : undefined;
    res.writeHead(200, { 'content-type': 'application/json', ...(link ? { link } : {}) });
    res.end(JSON.stringify({ name: 'repo/tags', tags: page }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  access = new RegistryAccess({
    insecureRegistries: [],
    registryMirrors: [],
    mirrorsByHost: {},
    limits: { retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 } },
    clientId: 'test',
  });
});

afterAll(async () => {
  await access?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const repository = (path = 'repo/tags') => access.repository(host, path, { auth: {}, clientAuth: false });

describe('listing every tag', () => {
  it('follows relative and absolute next links to the last page', async () => {
    asked.length = 0;
    linkFor = (last, n) => `</v2/repo/tags/tags/list?last=${last}&n=${n}>; rel="next"`;
    expect(await (await repository()).listTags(2)).toEqual(TAGS);
    expect(asked).toEqual([
      '/v2/repo/tags/tags/list?n=2',
      '/v2/repo/tags/tags/list?last=b&n=2',
      '/v2/repo/tags/tags/list?last=d&n=2',
    ]);
    linkFor = (last, n) => `<http://${host}/v2/repo/tags/tags/list?n=${n}&last=${last}>; rel="next"`;
    expect(await (await repository()).listTags(3)).toEqual(TAGS);
  });

  it('refuses a next link to another origin or another path, and a link that loops', async () => {
    linkFor = () => '<http://127.0.0.2:1/v2/repo/tags/tags/list?last=b>; rel="next"';
    await expect((await repository()).listTags(2)).rejects.toThrow(
      /is not \/v2\/repo\/tags\/tags\/list on http:/,
    );
    linkFor = () => '</v2/other/tags/list?last=b>; rel="next"';
    await expect((await repository()).listTags(2)).rejects.toThrow(/is not \/v2\/repo\/tags\/tags\/list/);
    linkFor = (_last, n) => `</v2/repo/tags/tags/list?n=${n}>; rel="next"`;
    await expect((await repository()).listTags(2)).rejects.toThrow(/the tag pages of repo\/tags do not end/);
  });

  it('reads "tags": null as no tags', async () => {
    expect(await (await repository('repo/nulls')).listTags(2)).toEqual([]);
  });
});
