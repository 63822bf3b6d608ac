// Every response a server test receives goes through here: it is checked against openapi.yaml (status, headers,
// JSON body) and the test fails on the first deviation.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { createResponseChecker, type ResponseSample } from '../../daemon/server/openapi-responses.ts';

const checker = createResponseChecker();

/** Throws an Error listing every way `sample` breaks openapi.yaml. */
export function assertConforms(sample: ResponseSample): void {
  const problems = checker(sample);
  if (problems.length > 0) throw new Error(`response breaks openapi.yaml:\n  ${problems.join('\n  ')}`);
}

/** The problems without throwing (for the tests that prove the checker can fail). */
export function openapiProblems(sample: ResponseSample): string[] {
  return checker(sample);
}

export interface EngineResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json<T = unknown>(): T;
  /** Non-empty lines of a JSON-lines body, parsed. */
  lines<T = unknown>(): T[];
}

export interface EngineRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer | object;
}

/** One request over the unix socket; the whole response is read and checked against openapi.yaml. */
export async function engineRequest(socketPath: string, req: EngineRequest): Promise<EngineResponse> {
  const res = await openEngineStream(socketPath, req);
  const body = await readBody(res);
  return checkedResponse(req, res, body);
}

/** Starts a request and hands back the response as it arrives (for streams); check it with `checkedResponse`. */
export function openEngineStream(
  socketPath: string,
  req: EngineRequest,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  const method = req.method ?? 'GET';
  const headers: Record<string, string> = { ...req.headers };
  let payload: string | Buffer | undefined;
  if (req.body !== undefined) {
    payload = typeof req.body === 'string' || Buffer.isBuffer(req.body) ? req.body : JSON.stringify(req.body);
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      { socketPath, path: req.path, method, headers, ...(signal ? { signal } : {}) },
      resolve,
    );
    r.on('error', reject);
    r.end(payload);
  });
}

export function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

export function checkedResponse(req: EngineRequest, res: IncomingMessage, body: string): EngineResponse {
  const status = res.statusCode ?? 0;
  // headersDistinct keeps repeated headers (WWW-Authenticate) apart, so each line is checked on its own.
  assertConforms({ method: req.method ?? 'GET', path: req.path, status, headers: res.headersDistinct, body });
  return {
    status,
    headers: res.headers,
    body,
    json: <T>() => JSON.parse(body) as T,
    lines: <T>() =>
      body
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as T),
  };
}
