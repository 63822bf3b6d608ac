// Routes are declared by their openapi.yaml operation: the URL and the validation schema come from the document.
import type { FastifyInstance, HTTPMethods, RouteHandlerMethod } from 'fastify';
import { fastifyUrl, findOperation, type OpenApiDocument, routeSchema } from './openapi.ts';

export function addOperation(
  app: FastifyInstance,
  doc: OpenApiDocument,
  method: HTTPMethods,
  path: string,
  handler: RouteHandlerMethod,
): void {
  const op = findOperation(doc, method, path);
  app.route({ method, url: fastifyUrl(op.path), schema: routeSchema(op), handler });
}
