// Routes are declared by their openapi.yaml operation: the URL and the validation schema come from the document.
import type { FastifyInstance, FastifySchema, HTTPMethods, RouteHandlerMethod } from 'fastify';
import { fastifyUrl, findOperation, type OpenApiDocument, routeSchema } from './openapi.ts';

// The same schema objects for every server built from one document, so the shared Ajv compiles each only once.
const schemas = new WeakMap<OpenApiDocument, Map<string, FastifySchema>>();

function schemaFor(doc: OpenApiDocument, method: string, path: string): FastifySchema {
  let byOperation = schemas.get(doc);
  if (!byOperation) {
    byOperation = new Map();
    schemas.set(doc, byOperation);
  }
  const key = `${method} ${path}`;
  let schema = byOperation.get(key);
  if (!schema) {
    schema = routeSchema(findOperation(doc, method, path));
    byOperation.set(key, schema);
  }
  return schema;
}

export function addOperation(
  app: FastifyInstance,
  doc: OpenApiDocument,
  method: HTTPMethods,
  path: string,
  handler: RouteHandlerMethod,
): void {
  app.route({ method, url: fastifyUrl(path), schema: schemaFor(doc, method, path), handler });
}
