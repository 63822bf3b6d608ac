// Turning daemon responses into values or typed errors.

import type { Dispatcher } from 'undici';
import { EngineApiError, InvalidStreamMessageError } from './errors.ts';

// An error body is a one-line `{message}`; anything longer is cut rather than held in memory.
const ERROR_BODY_LIMIT = 64 * 1024;

/** Reads a bounded body as text, then stops reading (destroying the rest). */
export async function readBoundedText(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    chunks.push(buf);
    size += buf.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** Builds the EngineApiError for a non-2xx response, keeping its headers and the daemon's `message`. */
export async function readEngineApiError(response: Dispatcher.ResponseData): Promise<EngineApiError> {
  let text = '';
  try {
    text = await readBoundedText(response.body, ERROR_BODY_LIMIT);
  } catch {
    // A body cut short still leaves the status to report.
  }
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const fromJson =
    typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : undefined;
  const message = fromJson ?? (text.trim() || `HTTP ${response.statusCode}`);
  return new EngineApiError(response.statusCode, message, { ...response.headers }, body);
}

/** The JSON body of a successful response, or the typed error of a failed one. */
export async function readJson<T>(response: Dispatcher.ResponseData): Promise<T> {
  if (response.statusCode < 200 || response.statusCode >= 300) throw await readEngineApiError(response);
  const text = await response.body.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new InvalidStreamMessageError(
      `the daemon answered ${response.statusCode} with a body that is not JSON`,
    );
  }
}

/** Succeeds on 2xx (discarding the body), throws the typed error otherwise. */
export async function expectSuccess(response: Dispatcher.ResponseData): Promise<void> {
  if (response.statusCode < 200 || response.statusCode >= 300) throw await readEngineApiError(response);
  await response.body.dump();
}
