// The Engine API application: fastify configured for moby's conventions, with one plugin per area.
import { randomBytes } from 'node:crypto';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { DaemonConfig } from '../config.ts';
import { InvalidParameterError } from '../errors.ts';
import type { ImageService } from '../images/image-service.ts';
import type { Logger } from '../log.ts';
import { challengeAnswerRoutes } from './challenge-answers.ts';
import type { RouteContext } from './context.ts';
import { distributionRoutes } from './distribution.ts';
import { formatSchemaError, installErrorHandling } from './errors.ts';
import { imageRoutes } from './images.ts';
import type { StreamLimits } from './message-writer.ts';
import { createSchemaAjv, fastifyUrl, listOperations, loadOpenApi } from './openapi.ts';
import { PendingChallenges } from './pending-challenges.ts';
import { refusedRoutes } from './refused.ts';
import { lazyRequestLogger, RequestLogController } from './request-log.ts';
import { ActiveStreams } from './stream.ts';
import { systemRoutes } from './system.ts';
import { installVersioning, rewriteUrl, setIdentificationHeaders } from './version.ts';

export interface ServerOptions {
  service: ImageService;
  config: DaemonConfig;
  logger: Logger;
  /** Another openapi.yaml (tests); the repository's by default. */
  openapiPath?: string;
  /** How long and how much a streaming client that does not read is waited for (tests shorten them). */
  streamLimits?: StreamLimits;
}

export interface EngineServer {
  app: FastifyInstance;
  /** Pulls, pushes and event streams in flight, for shutdown. */
  streams: ActiveStreams;
}

/** Builds the ready application; serve it with `http.createServer(app.routing)`. */
export async function buildServer(options: ServerOptions): Promise<EngineServer> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new RequestLogController(),
    childLoggerFactory: lazyRequestLogger,
    genReqId: requestIdGenerator(),
    exposeHeadRoutes: false,
    rewriteUrl,
    // Digest references are longer than find-my-way's default 100-character parameter.
    routerOptions: { maxParamLength: 4096 },
    schemaErrorFormatter: formatSchemaError,
    // A URL the router cannot decode fails before any hook runs: answer it in moby's shape all the same.
    frameworkErrors: (err, _request, reply: FastifyReply) => {
      setIdentificationHeaders(reply.raw);
      reply.code(400).send({ message: err.message });
    },
  });
  const doc = loadOpenApi(options.openapiPath);
  const streams = new ActiveStreams(options.streamLimits);

  const { paramAjv, bodyAjv } = validators();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema as object),
  );

  installBodyParsers(app);
  installVersioning(app);
  installErrorHandling(app);
  installMobyJsonType(app);

  const routes = new Set<string>();
  app.addHook('onRoute', (route) => {
    for (const m of [route.method].flat()) routes.add(`${m} ${route.url}`);
  });
  const ctx: RouteContext = {
    service: options.service,
    streams,
    doc,
    config: options.config,
    challenges: new PendingChallenges(options.config.authChallengeTimeout),
  };
  await app.register(systemRoutes, ctx);
  await app.register(imageRoutes, ctx);
  await app.register(distributionRoutes, ctx);
  await app.register(challengeAnswerRoutes, ctx);
  await app.register(refusedRoutes, ctx);

  const missing = listOperations(doc).filter((op) => !routes.has(`${op.method} ${fastifyUrl(op.path)}`));
  if (missing.length > 0) {
    throw new Error(
      `openapi.yaml operations without a route: ${missing.map((op) => op.operationId).join(', ')}`,
    );
  }
  await app.ready();
  return { app, streams };
}

let shared: { paramAjv: Ajv2020; bodyAjv: Ajv2020 } | undefined;

/**
 * One pair per process, so each route schema is compiled once (Ajv caches by schema object): strings from the
 * query, path and headers are coerced, JSON bodies are not.
 */
function validators(): { paramAjv: Ajv2020; bodyAjv: Ajv2020 } {
  shared ??= { paramAjv: createSchemaAjv({ coerce: true }), bodyAjv: createSchemaAjv({ coerce: false }) };
  return shared;
}

/**
 * JSON bodies are parsed (an empty one is no body); every other body is ignored unread, as moby ignores them on these
 * routes (docker-modem repeats POST options as JSON; the CLI sends text/plain with no content).
 */
function installBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new InvalidParameterError(`invalid JSON body: ${(err as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
}

const FASTIFY_JSON = 'application/json; charset=utf-8';

/**
 * moby answers JSON as plain `application/json`, and the docker CLI decodes an error body only under exactly that type
 * (with fastify's `; charset=utf-8` it prints the raw `{"message":…}`). fastify appends the charset to every object it
 * serializes, so it is taken off on the way out.
 */
function installMobyJsonType(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.getHeader('content-type') === FASTIFY_JSON) reply.header('content-type', 'application/json');
    done(null, payload);
  });
}

/** Short ids, unique per daemon run: a random prefix and a counter. */
function requestIdGenerator(): () => string {
  const prefix = randomBytes(3).toString('hex');
  let n = 0;
  return () => `${prefix}-${(++n).toString(36)}`;
}
