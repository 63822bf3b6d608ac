// Image routes: create (pull), list, inspect, history, delete, tag, push, prune, save (get) and load.
import type { FastifyInstance } from 'fastify';
import { parseBoolParam } from '../../api-spec/bool-param.ts';
import { parseFilters } from '../../api-spec/filters.ts';
import type { ImageSummary } from '../../api-spec/types.ts';
import { InvalidParameterError, NotImplementedError } from '../errors.ts';
import type { RouteContext } from './context.ts';
import { JsonArrayBodies } from './json-array-body.ts';
import { parsePlatformJson, parsePlatformParam } from './platform.ts';
import { checkTag, pullReference, splitTag } from './references.ts';
import { authModeOf, streamChannelOf } from './request-auth.ts';
import { addOperation } from './routes.ts';
import { streamJob } from './stream.ts';
import { isApiBefore } from './version.ts';

interface NameParams {
  name: string;
}

// moby's type for JSON (see installMobyJsonType in app.ts).
const JSON_TYPE = 'application/json';
const TAR_TYPE = 'application/x-tar';

/** API versions before 1.44 still expect VirtualSize (= Size) on list and inspect items, as moby back-fills. */
function withVirtualSize<T extends { Size: number }>(item: T): T {
  return { ...item, VirtualSize: item.Size };
}

export async function imageRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { service, doc, streams } = ctx;
  const listBodies = new JsonArrayBodies<ImageSummary>();
  const listBodiesWithVirtualSize = new JsonArrayBodies<ImageSummary>(withVirtualSize);

  addOperation(app, doc, 'POST', '/images/create', async (request, reply) => {
    const q = request.query as { fromImage?: string; fromSrc?: string; tag?: string; platform?: string };
    if (q.fromSrc !== undefined && q.fromSrc !== '') {
      throw new NotImplementedError(
        'importing images (fromSrc) is not implemented by Dockhand; only pulls are',
      );
    }
    if (q.fromImage === undefined || q.fromImage === '') {
      throw new InvalidParameterError('either fromImage or fromSrc must be set');
    }
    const reference = pullReference(q.fromImage, q.tag);
    const platform = parsePlatformParam(q.platform);
    const mode = authModeOf(request);
    const scope = streams.open(reply);
    const channel = streamChannelOf(request, ctx.challenges, scope.signal);
    const job = await service.pull(
      { reference, ...mode, ...(channel ? { channel } : {}), ...(platform ? { platform } : {}) },
      scope.signal,
    );
    await streamJob(reply, job, scope, request.log, channel);
  });

  addOperation(app, doc, 'POST', '/images/{name}/push', async (request, reply) => {
    const { name } = request.params as NameParams;
    const q = request.query as { tag?: string; platform?: string };
    const { repository, tag: nameTag } = splitTag(name);
    const tag = q.tag !== undefined && q.tag !== '' ? checkTag(q.tag, 'tag') : nameTag;
    const platform = parsePlatformJson(q.platform, 'platform');
    const mode = authModeOf(request);
    const scope = streams.open(reply);
    const channel = streamChannelOf(request, ctx.challenges, scope.signal);
    const job = await service.push(
      {
        name: repository,
        ...mode,
        ...(channel ? { channel } : {}),
        ...(tag ? { tag } : {}),
        ...(platform ? { platform } : {}),
      },
      scope.signal,
    );
    await streamJob(reply, job, scope, request.log, channel);
  });

  addOperation(app, doc, 'GET', '/images/json', async (request, reply) => {
    const q = request.query as { all?: string; digests?: string; filters?: string };
    const images = await service.list({
      all: parseBoolParam(q.all),
      digests: parseBoolParam(q.digests),
      filters: parseFilters(q.filters),
    });
    const body = await (isApiBefore(request, '1.44') ? listBodiesWithVirtualSize : listBodies).of(images);
    return reply.type(JSON_TYPE).send(body);
  });

  addOperation(app, doc, 'GET', '/images/{name}/json', async (request) => {
    const { name } = request.params as NameParams;
    const image = await service.inspect(name);
    return isApiBefore(request, '1.44') ? withVirtualSize(image) : image;
  });

  addOperation(app, doc, 'DELETE', '/images/{name}', async (request) => {
    const { name } = request.params as NameParams;
    const q = request.query as { force?: string; noprune?: string };
    return service.remove(name, { force: parseBoolParam(q.force), noprune: parseBoolParam(q.noprune) });
  });

  addOperation(app, doc, 'POST', '/images/{name}/tag', async (request, reply) => {
    const { name } = request.params as NameParams;
    const q = request.query as { repo: string; tag?: string };
    const target = splitTag(q.repo);
    const tag = q.tag !== undefined && q.tag !== '' ? q.tag : target.tag;
    await service.tag(name, target.repository, tag === undefined ? undefined : checkTag(tag, 'tag'));
    return reply.code(201).send();
  });

  addOperation(app, doc, 'GET', '/images/{name}/history', async (request) => {
    const { name } = request.params as NameParams;
    return service.history(name);
  });

  addOperation(app, doc, 'GET', '/images/get', async (request, reply) => {
    const { names } = request.query as { names?: string[] };
    if (!names || names.length === 0) throw new InvalidParameterError('no image names given (names)');
    return reply.type(TAR_TYPE).send(await service.save(names));
  });

  addOperation(app, doc, 'GET', '/images/{name}/get', async (request, reply) => {
    const { name } = request.params as NameParams;
    return reply.type(TAR_TYPE).send(await service.save([name]));
  });

  addOperation(app, doc, 'POST', '/images/load', async (request, reply) => {
    const scope = streams.open(reply);
    await streamJob(reply, service.load(request.raw), scope, request.log);
  });

  addOperation(app, doc, 'POST', '/images/prune', async (request) => {
    const q = request.query as { filters?: string };
    return service.prune(parseFilters(q.filters));
  });
}
