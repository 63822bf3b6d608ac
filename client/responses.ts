// Turning daemon responses into values or typed errors.

import type { Readable } from 'node:stream';
import type { DaemonResponse } from './daemon-connection.ts';
import { EngineApiError, InvalidStreamMessageError } from './errors.ts';

// An error body is a one-line `{message}`; anything longer is cut rather than held in memory.
const ERROR_BODY_LIMIT = 64 * 1024;
// A body read only to free its connection: past this, closing the connection is cheaper than reading on.
const DISCARD_LIMIT = 128 * 1024;

/** Reads a bounded body as text, then stops reading (destroying the rest). */
export async function readBoundedText(body: Readable, limit: number): Promise<string> {
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
export async function readEngineApiError(response: DaemonResponse): Promise<EngineApiError> {
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
export async function readJson<T>(response: DaemonResponse): Promise<T> {
  if (response.statusCode < 200 || response.statusCode >= 300) throw await readEngineApiError(response);
  const text = await readText(response.body);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new InvalidStreamMessageError(
      `the daemon answered ${response.statusCode} with a body that is not JSON`,
    );
  }
}

/** Succeeds on 2xx (discarding the body), throws the typed error otherwise. */
export async function expectSuccess(response: DaemonResponse): Promise<void> {
  if (response.statusCode < 200 || response.statusCode >= 300) throw await readEngineApiError(response);
  await discardBody(response.body);
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a body nobody needs to its end, so its connection is kept; a read error only loses that connection. */
export async function discardBody(body: Readable): Promise<void> {
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > DISCARD_LIMIT) break;
    }
  } catch {
    // Nothing in it was wanted.
  }
}
