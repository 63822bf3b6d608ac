// openapi.yaml is the one description of the routes: this module loads it once, resolves its $refs, and derives the
// fastify route schemas (querystring, params, headers, body) from each operation.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import type { FastifySchema } from 'fastify';
import { packageFile } from '../../api-spec/package-file.ts';

export const OPENAPI_PATH = packageFile('openapi.yaml');
/**
 * openapi.yaml as JSON, written by `npm run build` (scripts/compile-openapi.mjs). Read instead of the YAML when it is
 * at least as new: the YAML parser cost a daemon 3 MiB of memory and 0.3 s of start-up.
 */
export const COMPILED_OPENAPI_PATH = packageFile('dist/openapi.json');

export type JsonSchema = Record<string, unknown>;

export interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

export interface MediaType {
  schema?: JsonSchema;
}

export interface ResponseObject {
  description?: string;
  headers?: Record<string, { required?: boolean; schema?: JsonSchema }>;
  content?: Record<string, MediaType>;
  /** Dockhand's extension: the body is a stream of values of the schema, one JSON value per line. */
  'x-dockhand-json-lines'?: boolean;
}

export interface OperationObject {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, ResponseObject>;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  /** Responses (by status) for any method and path not under `paths`. */
  'x-dockhand-unmatched-route'?: Record<string, ResponseObject>;
  /** dockerd's routes Dockhand refuses (containers, exec, build, volumes): any method under these path prefixes. */
  'x-dockhand-refused-routes'?: { prefixes: string[]; responses: Record<string, ResponseObject> };
  [key: string]: unknown;
}

export interface Operation extends OperationObject {
  /** Upper-case HTTP method. */
  method: string;
  /** The OpenAPI path template, e.g. `/images/{name}/json`. */
  path: string;
}

const HTTP_METHODS = ['get', 'head', 'post', 'put', 'delete', 'patch', 'options'];

const cache = new Map<string, OpenApiDocument>();

/** Parses openapi.yaml (YAML aliases allowed) and inlines every local `$ref`; cached per file. */
export function loadOpenApi(path: string = OPENAPI_PATH): OpenApiDocument {
  const cached = cache.get(path);
  if (cached) return cached;
  const raw = readDocument(path);
  const doc = dereference(raw, raw, []) as OpenApiDocument;
  cache.set(path, doc);
  return doc;
}

/** YAML aliases allowed. The parser is loaded only here. */
export function parseOpenApiYaml(text: string): unknown {
  const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return parse(text, { maxAliasCount: -1 });
}

function readDocument(path: string): unknown {
  if (path === OPENAPI_PATH && modifiedAt(COMPILED_OPENAPI_PATH) >= modifiedAt(path)) {
    return JSON.parse(readFileSync(COMPILED_OPENAPI_PATH, 'utf8'));
  }
  return parseOpenApiYaml(readFileSync(path, 'utf8'));
}

function modifiedAt(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? -1;
}

export function listOperations(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (HTTP_METHODS.includes(method)) out.push({ ...op, method: method.toUpperCase(), path });
    }
  }
  return out;
}

/** The refused prefix a path falls under (`/containers/create` → `/containers`), if any. */
export function refusedPrefix(doc: OpenApiDocument, path: string): string | undefined {
  return doc['x-dockhand-refused-routes']?.prefixes.find((p) => path === p || path.startsWith(`${p}/`));
}

export function findOperation(doc: OpenApiDocument, method: string, path: string): Operation {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`openapi.yaml has no operation ${method} ${path}`);
  return { ...op, method: method.toUpperCase(), path };
}

/** `/images/{name}/json` → `/images/:name/json` (the server percent-encodes names with '/' before routing). */
export function fastifyUrl(openapiPath: string): string {
  return openapiPath.replace(/\{([^}]+)\}/g, ':$1');
}

/** The fastify schema of one operation: its parameters by location, and its request body by media type. */
export function routeSchema(op: Operation): FastifySchema {
  const schema: FastifySchema = {};
  const query = objectSchema(op.parameters, 'query', (n) => n);
  const params = objectSchema(op.parameters, 'path', (n) => n);
  const headers = objectSchema(op.parameters, 'header', (n) => n.toLowerCase());
  if (query) schema.querystring = query;
  if (params) schema.params = params;
  if (headers) schema.headers = headers;
  if (op.requestBody) {
    const content: Record<string, { schema: JsonSchema }> = {};
    for (const [mediaType, media] of Object.entries(op.requestBody.content)) {
      if (media.schema) content[mediaType] = { schema: media.schema };
    }
    schema.body = { content };
  }
  return schema;
}

function objectSchema(
  parameters: Parameter[] | undefined,
  where: Parameter['in'],
  key: (name: string) => string,
): JsonSchema | undefined {
  const selected = (parameters ?? []).filter((p) => p.in === where);
  if (selected.length === 0) return undefined;
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const p of selected) {
    properties[key(p.name)] = p.schema ?? {};
    if (p.required) required.push(key(p.name));
  }
  return { type: 'object', properties, required };
}

/** An Ajv for OpenAPI 3.1 schemas (JSON Schema 2020-12); `coerce` for query, path and header strings. */
export function createSchemaAjv(options: { coerce: boolean; allErrors?: boolean }): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    allowUnionTypes: true,
    allErrors: options.allErrors ?? false,
    coerceTypes: options.coerce ? 'array' : false,
    useDefaults: options.coerce,
  });
  // ajv-formats is CommonJS: under NodeNext its default import is the module object, whose `default` is the plugin.
  formatsPlugin.default(ajv);
  return ajv;
}

function dereference(node: unknown, root: unknown, trail: string[]): unknown {
  if (Array.isArray(node)) return node.map((v) => dereference(v, root, trail));
  if (node === null || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  const ref = record['$ref'];
  if (typeof ref === 'string') {
    if (trail.includes(ref)) throw new Error(`openapi.yaml: circular $ref ${[...trail, ref].join(' -> ')}`);
    const { $ref: _, ...siblings } = record;
    const target = dereference(resolvePointer(root, ref), root, [...trail, ref]) as Record<string, unknown>;
    return { ...target, ...(dereference(siblings, root, trail) as Record<string, unknown>) };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) out[k] = dereference(v, root, trail);
  return out;
}

function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`openapi.yaml: only local $refs are supported, got ${ref}`);
  let node = root;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) {
      throw new Error(`openapi.yaml: $ref ${ref} does not resolve`);
    }
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
