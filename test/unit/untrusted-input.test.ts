// Every parser of untrusted input, fuzzed: each returns a typed value or throws its own typed error, nothing else
// escapes, and no input takes long. References and WWW-Authenticate have their own property suites beside their
// other tests (test/unit/protocol/reference.test.ts, www-authenticate.test.ts). Runs are bounded to fit in npm test;
// a failure prints its seed, and FC_SEED=<seed> replays it.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAuthConfig, encodeAuthConfig, InvalidAuthHeaderError } from '../../api-spec/auth-config.ts';
import { InvalidFiltersError, parseFilters } from '../../api-spec/filters.ts';
import { DaemonError, InvalidParameterError } from '../../daemon/errors.ts';
import { buildServer, type EngineServer } from '../../daemon/server/app.ts';
import { parseEventQuery } from '../../daemon/server/event-query.ts';
import { parsePlatformJson, parsePlatformParam } from '../../daemon/server/platform.ts';
import { checkTag, pullReference } from '../../daemon/server/references.ts';
import { parseDigest as parseStoreDigest } from '../../daemon/store/digest.ts';
import { StoreError } from '../../daemon/store/errors.ts';
import { MEDIA_TYPES, parseContent } from '../../daemon/store/oci.ts';
import { parseDigest } from '../../protocol/digest.ts';
import { InvalidDigestError, InvalidTokenResponseError } from '../../protocol/errors.ts';
import { parseManifest, UnsupportedManifestError } from '../../protocol/manifest.ts';
import { MAX_EXPIRES_IN, parseTokenResponse, parseTokenResponseText } from '../../protocol/token-response.ts';
import { checkProperty, parsesOrRefuses } from '../helpers/property.ts';
import { FakeImageService } from './server/fake-image-service.ts';
import { quietLogger, testConfig } from './server/harness.ts';

const json = fc.json({ maxDepth: 4 });
const jsonValue = fc.jsonValue({ maxDepth: 4 });
/** Strings near the grammar of each parser find more than uniform strings do. */
const near = (chars: string, maxLength = 80) =>
  fc.string({ unit: fc.constantFrom(...chars.split('')), maxLength });

describe('the filters query parameter', () => {
  const isTyped = (e: unknown) => e instanceof InvalidFiltersError;

  it('returns lists of strings by key, or InvalidFiltersError', () => {
    checkProperty(
      fc.property(fc.oneof(fc.string(), json, near('{}[]":,tru e1')), (raw) => {
        parsesOrRefuses((r: string) => {
          for (const values of Object.values(parseFilters(r))) {
            expect(values.every((v) => typeof v === 'string')).toBe(true);
          }
        }, isTyped)(raw);
      }),
      { numRuns: 750 },
    );
  });

  it('keeps every key of the object, "__proto__" included, as its own key', () => {
    checkProperty(
      fc.property(
        fc.dictionary(fc.oneof(fc.string(), fc.constant('__proto__')), fc.array(fc.string())),
        (dict) => {
          const parsed = parseFilters(JSON.stringify(dict));
          expect(Object.keys(parsed).sort()).toEqual(Object.keys(dict).sort());
        },
      ),
      { numRuns: 250 },
    );
    expect(Object.keys(parseFilters('{"__proto__":["x"]}'))).toEqual(['__proto__']);
  });
});

describe('X-Registry-Auth', () => {
  it('decodes to an AuthConfig or throws InvalidAuthHeaderError', () => {
    const header = fc.oneof(
      fc.string(),
      near('ABCabc019+/-_='),
      json.map((j) => Buffer.from(j).toString('base64')),
      jsonValue.map((v) => encodeAuthConfig(v as never)),
      fc
        .dictionary(
          fc.constantFrom('username', 'Password', 'serveraddress', 'registrytokens', '__proto__', 'auth'),
          jsonValue,
        )
        .map((v) => encodeAuthConfig(v as never)),
    );
    checkProperty(
      fc.property(header, (value) => {
        parsesOrRefuses(
          (h: string) => {
            const config = decodeAuthConfig(h);
            for (const [key, v] of Object.entries(config)) {
              if (key !== 'registrytokens') expect(typeof v).toBe('string');
            }
          },
          (e) => e instanceof InvalidAuthHeaderError,
        )(value);
      }),
      { numRuns: 750 },
    );
  });
});

describe('token answers', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const isTyped = (e: unknown) => e instanceof InvalidTokenResponseError;
  const timeText = fc.oneof(
    fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'not a date' : d.toISOString())),
    fc.string(),
    fc.constant('0001-01-01T00:00:00Z'),
  );
  const body = fc.oneof(
    jsonValue,
    fc.record(
      {
        token: fc.oneof(fc.string(), jsonValue),
        access_token: fc.oneof(fc.string(), jsonValue),
        refresh_token: fc.oneof(fc.string(), jsonValue),
        expires_in: fc.oneof(fc.integer(), fc.double(), fc.string(), jsonValue),
        issued_at: fc.oneof(timeText, jsonValue),
        scope: jsonValue,
      },
      { requiredKeys: [] },
    ),
  );

  it('parse to a token that expires at a real time, between 60 s and the longest lifetime, or are refused', () => {
    checkProperty(
      fc.property(body, (b) => {
        parsesOrRefuses((value: unknown) => {
          const answer = parseTokenResponse(value, { now });
          expect(answer.token).not.toBe('');
          expect(Number.isFinite(answer.expiresAt.getTime())).toBe(true);
          expect(answer.expiresIn).toBeGreaterThanOrEqual(60);
          expect(answer.expiresIn).toBeLessThanOrEqual(MAX_EXPIRES_IN);
        }, isTyped)(b);
      }),
      { numRuns: 750 },
    );
  });

  it('an issued_at at the end of time is not taken as given', () => {
    const answer = parseTokenResponse({ token: 't', issued_at: '+275760-09-12T23:59:00.001Z' }, { now });
    expect(answer.expiresAt).toEqual(new Date(now.getTime() + 60_000));
  });

  it('as text: JSON or not', () => {
    checkProperty(
      fc.property(
        fc.oneof(
          fc.string(),
          json,
          body.map((b) => JSON.stringify(b)),
        ),
        (text) => {
          parsesOrRefuses((t: string) => parseTokenResponseText(t, { now }), isTyped)(text);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('manifests and indexes', () => {
  const mediaType = fc.constantFrom(
    '',
    MEDIA_TYPES.ociManifest,
    MEDIA_TYPES.ociIndex,
    MEDIA_TYPES.dockerManifest,
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.docker.distribution.manifest.v1+prettyjws',
    'text/plain',
  );
  const hex = fc.stringMatching(/^[a-f0-9]{64}$/);
  const descriptor = fc.record(
    {
      mediaType: fc.oneof(mediaType, jsonValue),
      digest: fc.oneof(
        hex.map((h) => `sha256:${h}`),
        fc.string(),
        jsonValue,
      ),
      size: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string(), jsonValue),
      platform: fc.oneof(fc.record({ os: fc.string(), architecture: fc.string() }), jsonValue),
      annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), jsonValue),
      urls: jsonValue,
    },
    { requiredKeys: [] },
  );
  const document = fc.oneof(
    jsonValue,
    fc.record(
      {
        schemaVersion: fc.oneof(fc.constant(2), jsonValue),
        mediaType: fc.oneof(mediaType, jsonValue),
        config: fc.oneof(descriptor, jsonValue),
        layers: fc.oneof(fc.array(descriptor, { maxLength: 4 }), jsonValue),
        manifests: fc.oneof(fc.array(descriptor, { maxLength: 4 }), jsonValue),
      },
      { requiredKeys: [] },
    ),
  );

  it('from a registry: a typed manifest or index, or UnsupportedManifestError', () => {
    checkProperty(
      fc.property(
        fc.oneof(
          document.map((d) => JSON.stringify(d)),
          fc.string(),
        ),
        mediaType,
        (text, type) => {
          parsesOrRefuses(
            (t: string) => parseManifest(Buffer.from(t), type, 'fuzz'),
            (e) => e instanceof UnsupportedManifestError,
          )(text);
        },
      ),
      { numRuns: 750 },
    );
  });

  it('from the store: their children, or a typed store error', () => {
    checkProperty(
      fc.property(document, fc.option(mediaType, { nil: undefined }), (doc, type) => {
        parsesOrRefuses(
          (d: unknown) => parseContent(d, type, `sha256:${'a'.repeat(64)}`),
          (e) => e instanceof StoreError,
        )(doc);
      }),
      { numRuns: 750 },
    );
  });
});

describe('digests', () => {
  const digestLike = fc.oneof(
    fc.string(),
    near('sha256:512abcdefABCDEF0189+._-=', 140),
    fc.stringMatching(/^sha(256|512):[a-f0-9]{60,130}$/),
  );

  it('parse or throw InvalidDigestError, in the protocol and in the store', () => {
    checkProperty(
      fc.property(digestLike, (s) => {
        parsesOrRefuses(parseDigest, (e) => e instanceof InvalidDigestError)(s);
        parsesOrRefuses(parseStoreDigest, (e) => e instanceof StoreError)(s);
      }),
      { numRuns: 1250 },
    );
  });
});

describe('query parameters', () => {
  const isTyped = (e: unknown) => e instanceof DaemonError || e instanceof InvalidFiltersError;

  it('events since/until: finite times or a 400, never Infinity', () => {
    const time = fc.oneof(
      fc.string(),
      fc.stringMatching(/^\d{1,400}(\.\d{1,12})?$/),
      fc.constant('9'.repeat(400)),
    );
    checkProperty(
      fc.property(
        fc.option(time, { nil: undefined }),
        fc.option(time, { nil: undefined }),
        (since, until) => {
          parsesOrRefuses((q: { since?: string; until?: string }) => {
            const parsed = parseEventQuery(q);
            for (const t of [parsed.since, parsed.until])
              if (t !== undefined) expect(Number.isFinite(t)).toBe(true);
          }, isTyped)({ since, until });
        },
      ),
      { numRuns: 500 },
    );
    expect(() => parseEventQuery({ since: '9'.repeat(400) })).toThrow(InvalidParameterError);
  });

  it('platform, tag and fromImage: a value or a 400', () => {
    const text = fc.oneof(fc.string(), near('linux/arm64v8amd{}":,_.-@ 7', 40), json);
    checkProperty(
      fc.property(text, fc.option(text, { nil: undefined }), (a, b) => {
        parsesOrRefuses(parsePlatformParam, isTyped)(a);
        parsesOrRefuses((v: string) => parsePlatformJson(v, 'platform'), isTyped)(a);
        parsesOrRefuses((v: string) => checkTag(v, 'tag'), isTyped)(a);
        parsesOrRefuses((v: string) => pullReference(v, b), isTyped)(a);
      }),
      { numRuns: 750 },
    );
  });

  describe('through the Engine API', () => {
    let server: EngineServer;
    beforeAll(async () => {
      server = await buildServer({
        service: new FakeImageService(),
        config: testConfig('/nonexistent'),
        logger: quietLogger(),
      });
    });
    afterAll(() => server.app.close());

    it('answers any query on the image and event routes with a status below 500', async () => {
      const value = fc.oneof(fc.string({ maxLength: 40 }), json, near('*?[]^\\{}":,/@.-_', 30));
      const routes = [
        ['GET', '/images/json', ['all', 'digests', 'filters']],
        ['POST', '/images/prune', ['filters']],
        ['GET', '/events', ['since', 'until', 'filters']],
        ['POST', '/images/create', ['fromImage', 'tag', 'platform']],
        ['POST', '/images/small/push', ['tag', 'platform']],
        ['POST', '/images/small/tag', ['repo', 'tag']],
        ['DELETE', '/images/small', ['force', 'noprune']],
      ] as const;
      const request = fc
        .constantFrom(...routes)
        .chain(([method, path, names]) =>
          fc
            .dictionary(fc.constantFrom(...names), value, { maxKeys: names.length })
            .map((query) => ({ method, path, query })),
        );
      const failures: string[] = [];
      const seed = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
      await fc.assert(
        fc.asyncProperty(request, async ({ method, path, query }) => {
          const url = `${path}?${new URLSearchParams({ ...query, ...(path === '/events' ? { until: '1' } : {}) })}`;
          const res = await server.app.inject({ method, url });
          if (res.statusCode >= 500) failures.push(`${method} ${url} → ${res.statusCode} ${res.body}`);
          expect(res.statusCode).toBeLessThan(500);
        }),
        { numRuns: 300, seed },
      );
      expect(failures).toEqual([]);
    });
  });
});
