// Structured logs (pino). Credentials must never reach a log line, so the secrets' paths are redacted wherever they
// sit, and requests are serialized without bodies.
import type { IncomingHttpHeaders } from 'node:http';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/values.ts';

export type { Logger };

const SECRET_KEYS = [
  'password',
  'token',
  'identitytoken',
  'registrytoken',
  'registrytokens',
  'refresh_token',
  'access_token',
  'auth',
  'authorization',
  'x-registry-auth',
  'proxy-authorization',
];

/** Each secret key at the top level and up to four objects deep (pino's paths have no recursive wildcard). */
export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((key) =>
  ['', '*', '*.*', '*.*.*', '*.*.*.*'].map((prefix) => {
    if (!/^[a-z_]+$/.test(key)) return `${prefix}["${key}"]`;
    return prefix === '' ? key : `${prefix}.${key}`;
  }),
);

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout when absent. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: { req: serializeRequest, err: pino.stdSerializers.err },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

interface LoggableRequest {
  id?: unknown;
  method?: string;
  url?: string;
  originalUrl?: string;
  headers?: IncomingHttpHeaders;
}

/** Method, URL and headers (the secret headers are censored by the redact paths); never the body. */
function serializeRequest(req: LoggableRequest): Record<string, unknown> {
  return {
    id: req.id,
    method: req.method,
    url: req.originalUrl ?? req.url,
    headers: req.headers,
  };
}
