// Checks an HTTP response (status, headers, body) against openapi.yaml, so tests prove the server keeps its contract.
import type { ValidateFunction } from 'ajv/dist/2020.js';
import {
  createSchemaAjv,
  type JsonSchema,
  listOperations,
  loadOpenApi,
  type OpenApiDocument,
  type Operation,
  type ResponseObject,
  refusedPrefix,
} from './openapi.ts';

export interface ResponseSample {
  method: string;
  /** The request path as sent, versioned or not, with or without a query string. */
  path: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Returns the ways the response breaks openapi.yaml; an empty list means it conforms. */
export type ResponseChecker = (sample: ResponseSample) => string[];

interface CompiledPath {
  template: string;
  pattern: RegExp;
  /** Literal characters in the template (a template without parameters comes first): the more, the more specific. */
  weight: number;
  operations: Map<string, Operation>;
}

export function createResponseChecker(doc: OpenApiDocument = loadOpenApi()): ResponseChecker {
  const ajv = createSchemaAjv({ coerce: false, allErrors: true });
  const validators = new WeakMap<JsonSchema, ValidateFunction>();
  const validatorFor = (schema: JsonSchema): ValidateFunction => {
    let v = validators.get(schema);
    if (!v) {
      v = ajv.compile(schema);
      validators.set(schema, v);
    }
    return v;
  };
  const paths = compilePaths(doc);
  const unmatched = doc['x-dockhand-unmatched-route'];

  return (sample) => {
    const path = stripVersion(sample.path.split('?')[0] ?? '');
    const where = `${sample.method} ${sample.path} → ${sample.status}`;
    const op = matchOperation(paths, sample.method.toUpperCase(), path);
    const refused = op ? undefined : refusedPrefix(doc, path);
    const responses = op
      ? op.responses
      : refused
        ? { ...unmatched, ...doc['x-dockhand-refused-routes']?.responses }
        : unmatched;
    const response = responses?.[String(sample.status)] ?? responses?.['default'];
    if (!response) {
      const what = op ? op.operationId : 'an unmatched route (x-dockhand-unmatched-route)';
      return [`${where}: status ${sample.status} is not declared for ${what}`];
    }
    return checkResponse(response, sample, validatorFor).map((p) => `${where}: ${p}`);
  };
}

function checkResponse(
  response: ResponseObject,
  sample: ResponseSample,
  validatorFor: (schema: JsonSchema) => ValidateFunction,
): string[] {
  const problems: string[] = [];
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const value = sample.headers[name.toLowerCase()];
    if (value === undefined) {
      if (header.required) problems.push(`missing header ${name}`);
      continue;
    }
    if (!header.schema) continue;
    const validate = validatorFor(header.schema);
    for (const v of Array.isArray(value) ? value : [value]) {
      if (!validate(v)) problems.push(`header ${name}: ${JSON.stringify(v)} ${describe(validate)}`);
    }
  }
  const contentType = headerValue(sample.headers['content-type']);
  const content = response.content;
  if (!content) {
    if (sample.body !== '')
      problems.push(`no body is declared, got ${JSON.stringify(sample.body.slice(0, 80))}`);
    return problems;
  }
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  const media = mediaType === undefined ? undefined : content[mediaType];
  if (!media) {
    const declared = Object.keys(content).join(', ');
    problems.push(`content-type ${contentType ?? '(none)'} is not one of ${declared}`);
    return problems;
  }
  if (!media.schema) return problems;
  const validate = validatorFor(media.schema);
  for (const [i, value] of bodyValues(sample.body, mediaType!, response['x-dockhand-json-lines'] === true)) {
    if (value instanceof Error) problems.push(`body${i}: ${value.message}`);
    else if (!validate(value)) problems.push(`body${i} ${describe(validate)}`);
  }
  return problems;
}

/**
 * The body's values: the text itself, one JSON document, or (json-lines) one per non-empty line, an RFC 7464 record
 * separator before each allowed (application/json-seq).
 */
function bodyValues(body: string, mediaType: string, jsonLines: boolean): [string, unknown][] {
  if (!jsonLines && !mediaType.endsWith('json')) return [['', body]];
  const docs = jsonLines
    ? body
        .split('\n')
        .map((l) => l.trim().replace(/^\x1e/, ''))
        .filter((l) => l !== '')
    : [body];
  return docs.map((text, i) => {
    const label = jsonLines ? ` line ${i + 1}` : '';
    try {
      return [label, JSON.parse(text) as unknown];
    } catch {
      return [label, new Error(`not JSON: ${JSON.stringify(text.slice(0, 80))}`)];
    }
  });
}

function describe(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function stripVersion(path: string): string {
  return path.replace(/^\/v\d+(\.\d+)*(?=\/)/, '');
}

function compilePaths(doc: OpenApiDocument): CompiledPath[] {
  const byPath = new Map<string, CompiledPath>();
  for (const op of listOperations(doc)) {
    let entry = byPath.get(op.path);
    if (!entry) {
      const source = op.path
        .split(/\{[^}]+\}/)
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('(.+)');
      entry = {
        template: op.path,
        pattern: new RegExp(`^${source}$`),
        weight: op.path.includes('{') ? op.path.replace(/\{[^}]+\}/g, '').length : Number.POSITIVE_INFINITY,
        operations: new Map(),
      };
      byPath.set(op.path, entry);
    }
    entry.operations.set(op.method, op);
  }
  return [...byPath.values()].sort((a, b) => b.weight - a.weight);
}

/** The most specific path that matches and has this method (names may contain '/', as on the server). */
function matchOperation(paths: CompiledPath[], method: string, path: string): Operation | undefined {
  for (const p of paths) {
    if (!p.pattern.test(path)) continue;
    const op = p.operations.get(method);
    if (op) return op;
  }
  return undefined;
}
