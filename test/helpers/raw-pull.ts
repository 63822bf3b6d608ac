// A pull over the raw Engine API (no SDK in between), so tests see exactly the status and stream the daemon sends.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Client } from 'undici';
import { expect } from 'vitest';
import { type AuthConfig, encodeAuthConfig } from '../../api-spec/auth-config.ts';
import type { JSONMessage } from '../../api-spec/json-message.ts';

export interface PullOutcome {
  status: number;
  messages: JSONMessage[];
  /** The pre-stream error message, when the status is not 200. */
  message: string | undefined;
}

export async function pullRaw(
  socket: string,
  fromImage: string,
  tag: string,
  auth?: AuthConfig,
): Promise<PullOutcome> {
  const client = new Client('http://localhost', { socketPath: socket });
  try {
    const query = new URLSearchParams({ fromImage, tag });
    const response = await client.request({
      method: 'POST',
      path: `/images/create?${query}`,
      ...(auth ? { headers: { 'x-registry-auth': encodeAuthConfig(auth) } } : {}),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      return { status: response.statusCode, messages: [], message: JSON.parse(text).message };
    }
    const messages = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as JSONMessage);
    return { status: 200, messages, message: undefined };
  } finally {
    await client.close();
  }
}

export function expectPullSucceeded(outcome: PullOutcome, options: { upToDate?: boolean } = {}): void {
  expect(outcome.message).toBeUndefined();
  expect(outcome.status).toBe(200);
  expect(outcome.messages.find((m) => m.error !== undefined)).toBeUndefined();
  expect(outcome.messages.at(-1)?.status).toMatch(
    options.upToDate
      ? /^Status: (Downloaded newer image|Image is up to date) for /
      : /^Status: Downloaded newer image for /,
  );
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
