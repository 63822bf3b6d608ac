// How failures become Engine API answers: {"message": …} with the status of the error's class, 404 for unknown routes.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidAuthHeaderError } from '../../api-spec/auth-config.ts';
import { InvalidFiltersError } from '../../api-spec/filters.ts';
import { DaemonError, RegistryChallengeError } from '../errors.ts';
import { sendChallenge } from './challenge.ts';

export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).send({ message: 'page not found' });
  });
  app.setErrorHandler((err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof RegistryChallengeError) {
      request.log.info(
        { registry: err.registry, repository: err.repository },
        'forwarding registry challenge',
      );
      return sendChallenge(reply, err);
    }
    const status = statusOf(err);
    if (status >= 500) request.log.error(failureLog(err), 'request failed');
    else request.log.debug(failureLog(err), 'request refused');
    return reply.code(status).send({ message: err.message });
  });
}

/** Errors of these types (and untyped `Error`s, such as Node's system errors) are not expected: bugs or unknowns. */
const UNEXPECTED_TYPES = [
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
  AggregateError,
];

/**
 * What the log keeps of a failure. An expected one, an error of its own class (a full disk, a refused grant or realm,
 * an unreachable registry), by its name and message; anything else may be a bug and is logged with its stack.
 */
export function failureLog(err: unknown): { err: unknown } | { error: { type: string; message: string } } {
  const expected =
    err instanceof Error &&
    err.constructor !== Error &&
    !UNEXPECTED_TYPES.some((type) => err instanceof type);
  return expected ? { error: { type: err.name, message: err.message } } : { err };
}

export function statusOf(err: unknown): number {
  if (err instanceof DaemonError) return err.statusCode;
  if (err instanceof InvalidAuthHeaderError || err instanceof InvalidFiltersError) return 400;
  const e = err as Partial<FastifyError>;
  if (e.validation) return 400;
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600) return e.statusCode;
  return 500;
}

interface SchemaError {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

const PART_NAMES: Record<string, string> = {
  querystring: 'query parameter',
  params: 'path parameter',
  headers: 'header',
  body: 'body field',
};

/** fastify's schemaErrorFormatter: names the field and the reason, e.g. `invalid query parameter "repo": …`. */
export function formatSchemaError(errors: SchemaError[], dataVar: string): Error {
  const first = errors[0];
  const part = PART_NAMES[dataVar] ?? dataVar;
  if (!first) return new Error(`invalid ${part}`);
  const missing = first.params?.['missingProperty'];
  const field =
    first.instancePath.slice(1).replace(/\//g, '.') || (typeof missing === 'string' ? missing : '');
  const reason = first.message ?? 'is invalid';
  return new Error(field === '' ? `invalid ${dataVar}: ${reason}` : `invalid ${part} "${field}": ${reason}`);
}
