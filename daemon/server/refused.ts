// The routes of dockerd an image daemon cannot serve (openapi.yaml's x-dockhand-refused-routes): containers, exec,
// build and volumes. Each answers 501 in moby's error shape, naming the request, so the docker CLI prints the reason
// and stops (a 404 from POST /containers/create would make `docker run` pull the image and try again).
import type { FastifyInstance } from 'fastify';
import { NotImplementedError } from '../errors.ts';
import type { RouteContext } from './context.ts';
import { refusedPrefix } from './openapi.ts';

export async function refusedRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  for (const prefix of ctx.doc['x-dockhand-refused-routes']?.prefixes ?? []) {
    const handler = async (request: { method: string; url: string }) => {
      const path = request.url.split('?')[0] ?? '';
      const area = refusedPrefix(ctx.doc, path)?.slice(1) ?? prefix.slice(1);
      throw new NotImplementedError(
        `Dockhand is an image daemon: ${area} are not supported (${request.method} ${path}). ` +
          'Image commands (pull, push, images, tag, rmi, save, load, history, system df) work; run containers with dockerd',
      );
    };
    app.all(prefix, handler);
    app.all(`${prefix}/*`, handler);
  }
}
