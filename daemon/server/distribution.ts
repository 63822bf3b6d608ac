// GET /distribution/{name}/json: the registry's view of a reference (descriptor and platforms), under clientAuth too.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.ts';
import { authModeOf } from './request-auth.ts';
import { addOperation } from './routes.ts';

export async function distributionRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  addOperation(app, ctx.doc, 'GET', '/distribution/{name}/json', async (request, reply) => {
    const { name } = request.params as { name: string };
    const mode = authModeOf(request);
    const scope = ctx.streams.open(reply);
    return ctx.service.distributionInspect(name, mode, scope.signal);
  });
}
