// openapi.yaml is the one route description: the server derives validation from it, refuses to start when an
// operation has no route, and the response checker the other tests rely on really rejects bad responses.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_API_VERSION } from '../../../api-spec/api-version.ts';
import { buildServer } from '../../../daemon/server/app.ts';
import {
  COMPILED_OPENAPI_PATH,
  listOperations,
  loadOpenApi,
  OPENAPI_PATH,
  parseOpenApiYaml,
  routeSchema,
} from '../../../daemon/server/openapi.ts';
import { engineRequest, openapiProblems } from '../../helpers/openapi-check.ts';
import { FakeImageService } from './fake-image-service.ts';
import { quietLogger, type ServerHarness, startServerHarness, testConfig } from './harness.ts';

const COMMON = {
  'api-version': '1.50',
  server: 'Dockhand/0.1.0 (linux)',
  ostype: 'linux',
  'docker-experimental': 'false',
};
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

describe('the response checker', () => {
  it('accepts a conforming response', () => {
    expect(
      openapiProblems({
        method: 'GET',
        path: '/v1.41/images/json',
        status: 200,
        headers: { ...COMMON, ...JSON_TYPE },
        body: '[]',
      }),
    ).toEqual([]);
  });

  it('reports a missing common header, a wrong body, an undeclared status and a wrong content type', () => {
    const noHeader = openapiProblems({
      method: 'GET',
      path: '/version',
      status: 200,
      headers: JSON_TYPE,
      body: '{}',
    });
    expect(noHeader.join('\n')).toContain('missing header Api-Version');
    expect(noHeader.join('\n')).toContain("must have required property 'Version'");

    const badList = openapiProblems({
      method: 'GET',
      path: '/images/json',
      status: 200,
      headers: { ...COMMON, ...JSON_TYPE },
      body: '[{"Id":1}]',
    });
    expect(badList.join('\n')).toContain('/0/Id must be string');

    const undeclared = openapiProblems({
      method: 'GET',
      path: '/images/json',
      status: 418,
      headers: COMMON,
      body: '',
    });
    expect(undeclared[0]).toContain('status 418 is not declared');

    const wrongType = openapiProblems({
      method: 'GET',
      path: '/version',
      status: 200,
      headers: { ...COMMON, 'content-type': 'text/html' },
      body: '{}',
    });
    expect(wrongType[0]).toContain('content-type text/html');
  });

  it('checks each line of a stream and each WWW-Authenticate line of a challenge', () => {
    const stream = openapiProblems({
      method: 'POST',
      path: '/images/create',
      status: 200,
      headers: { ...COMMON, 'content-type': 'application/json' },
      body: '{"status":"ok"}\r\n{"errorDetail":{"message":"x"}}\r\n',
    });
    expect(stream.join('\n')).toContain(
      'line 2 / must have property error when property errorDetail is present',
    );

    const challenge = openapiProblems({
      method: 'POST',
      path: '/images/create',
      status: 401,
      headers: { ...COMMON, ...JSON_TYPE, 'www-authenticate': ['Bearer realm="a"', 'Basic realm="b"'] },
      body: '{"message":"m","registry":"r","repository":"p","challenges":["x"]}',
    });
    expect(challenge).toEqual([]);
  });

  it('treats unmatched routes with x-dockhand-unmatched-route, and matches names containing slashes', () => {
    expect(
      openapiProblems({
        method: 'GET',
        path: '/nope',
        status: 404,
        headers: { ...COMMON, ...JSON_TYPE },
        body: '{"message":"page not found"}',
      }),
    ).toEqual([]);
    expect(
      openapiProblems({
        method: 'GET',
        path: '/nope',
        status: 200,
        headers: { ...COMMON, ...JSON_TYPE },
        body: '{}',
      })[0],
    ).toContain('status 200 is not declared for an unmatched route');
    const inspect = openapiProblems({
      method: 'GET',
      path: '/v1.41/images/127.0.0.1:5000/a/b:1/json',
      status: 200,
      headers: { ...COMMON, ...JSON_TYPE },
      body: '{}',
    });
    expect(inspect.join('\n')).toContain("must have required property 'RepoTags'");
  });
});

describe('openapi.yaml', () => {
  it('advertises the API version the server sends', () => {
    const doc = loadOpenApi();
    expect((doc['info'] as { version: string }).version).toBe(MAX_API_VERSION);
  });

  it('derives query, path, header and body schemas per operation', () => {
    const ops = listOperations(loadOpenApi());
    const tag = ops.find((o) => o.operationId === 'ImageTag')!;
    expect(routeSchema(tag).querystring).toMatchObject({ required: ['repo'] });
    const create = ops.find((o) => o.operationId === 'ImageCreate')!;
    expect(routeSchema(create).headers).toMatchObject({
      properties: { 'x-registry-auth': { type: 'string' } },
    });
    const auth = ops.find((o) => o.operationId === 'SystemAuth')!;
    expect(routeSchema(auth).body).toMatchObject({
      content: { 'application/json': { schema: { type: 'object' } } },
    });
  });

  it('stops the server from starting when an operation has no route', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dh-oa-'));
    try {
      const extra = join(dir, 'openapi.yaml');
      await copyFile(OPENAPI_PATH, extra);
      const text = await readFile(extra, 'utf8');
      await writeFile(
        extra,
        text.replace(
          '\npaths:\n',
          "\npaths:\n  /containers/json:\n    get:\n      operationId: ContainerList\n      responses:\n        '200':\n          description: x\n",
        ),
      );
      await expect(
        buildServer({
          service: new FakeImageService(),
          config: testConfig(dir),
          logger: quietLogger(),
          openapiPath: extra,
        }),
      ).rejects.toThrow('openapi.yaml operations without a route: ContainerList');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('validation derived from openapi.yaml', () => {
  let t: ServerHarness;
  beforeAll(async () => {
    t = await startServerHarness();
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a missing required query parameter with a message naming it', async () => {
    const res = await engineRequest(t.socket, { method: 'POST', path: '/images/127.0.0.1:5000/small:1/tag' });
    expect(res.status).toBe(400);
    expect(res.json<{ message: string }>().message).toBe(
      `invalid query parameter "repo": must have required property 'repo'`,
    );
    expect(t.service.calls.tag).toEqual([]);
  });

  it('refuses a malformed since on /events (pattern from the document)', async () => {
    const res = await engineRequest(t.socket, { path: '/events?since=yesterday' });
    expect(res.status).toBe(400);
    expect(res.json<{ message: string }>().message).toContain('invalid query parameter "since"');
  });

  it('refuses a POST /auth body that is not an object', async () => {
    const res = await engineRequest(t.socket, { method: 'POST', path: '/auth', body: '[1]' });
    expect(res.status).toBe(400);
    expect(res.json<{ message: string }>().message).toContain('must be object');
  });

  it('ignores unknown query parameters, as moby does', async () => {
    const res = await engineRequest(t.socket, { path: '/images/json?shared-size=1&whatever=2' });
    expect(res.status).toBe(200);
  });
});

describe('the build copy of openapi.yaml', () => {
  it('is the YAML parsed: the daemon reads it instead of the YAML', async () => {
    const compiled = JSON.parse(await readFile(COMPILED_OPENAPI_PATH, 'utf8')) as unknown;
    expect(compiled).toEqual(parseOpenApiYaml(await readFile(OPENAPI_PATH, 'utf8')));
  });
});
