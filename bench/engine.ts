// The few Engine API calls the bench makes, over the daemon's unix socket with undici. A pull is consumed to the end
// of its JSON-lines stream; a line with errorDetail makes it fail.
import { Client } from 'undici';
import { AUTH_HEADER, type AuthConfig, encodeAuthConfig } from '../api-spec/auth-config.ts';

export interface PullRequest {
  /** host:port/repo */
  image: string;
  tag: string;
  clientAuth?: boolean;
  auth?: AuthConfig;
}

export type PullOutcome =
  | { kind: 'done'; messages: number }
  /** clientAuth: the registry challenged before the stream started. */
  | { kind: 'challenge'; challenges: string[]; registry: string | undefined };

export class PullFailedError extends Error {
  override readonly name = 'PullFailedError';
}

function headerLines(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export async function pull(socket: string, request: PullRequest): Promise<PullOutcome> {
  const query = new URLSearchParams({ fromImage: request.image, tag: request.tag });
  if (request.clientAuth) query.set('clientAuth', '1');
  const headers: Record<string, string> = {};
  if (request.auth) headers[AUTH_HEADER] = encodeAuthConfig(request.auth);
  const client = new Client('http://localhost', { socketPath: socket, bodyTimeout: 0, headersTimeout: 0 });
  const where = `${request.image}:${request.tag}`;
  try {
    const response = await client.request({ method: 'POST', path: `/images/create?${query}`, headers });
    if (response.statusCode === 401 && request.clientAuth) {
      await response.body.dump();
      const registry = response.headers['docker-registry-host'];
      return {
        kind: 'challenge',
        challenges: headerLines(response.headers['www-authenticate']),
        registry: typeof registry === 'string' ? registry : undefined,
      };
    }
    if (response.statusCode !== 200) {
      const text = (await response.body.text()).slice(0, 500);
      throw new PullFailedError(`pull ${where}: HTTP ${response.statusCode}: ${text}`);
    }
    let pending = '';
    let messages = 0;
    const check = (line: string) => {
      if (line.trim() === '') return;
      messages++;
      const message = JSON.parse(line) as { errorDetail?: { message?: string }; error?: string };
      if (message.errorDetail !== undefined || message.error !== undefined) {
        throw new PullFailedError(`pull ${where}: ${message.errorDetail?.message ?? message.error}`);
      }
    };
    for await (const chunk of response.body) {
      pending += (chunk as Buffer).toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) check(line);
    }
    check(pending);
    if (messages === 0) throw new PullFailedError(`pull ${where}: empty stream`);
    return { kind: 'done', messages };
  } finally {
    await client.close().catch(() => {});
  }
}

/** Pulls and insists on success (no clientAuth). */
export async function pullOk(socket: string, image: string, tag: string): Promise<void> {
  const outcome = await pull(socket, { image, tag });
  if (outcome.kind !== 'done') throw new PullFailedError(`pull ${image}:${tag}: unexpected challenge`);
}

/** POST /images/{name}/tag?repo=&tag= */
export async function tagImage(socket: string, name: string, repo: string, tag: string): Promise<void> {
  const client = new Client('http://localhost', { socketPath: socket });
  try {
    const query = new URLSearchParams({ repo, tag });
    const response = await client.request({
      method: 'POST',
      path: `/images/${encodeURIComponent(name)}/tag?${query}`,
    });
    const text = await response.body.text();
    if (response.statusCode !== 201) {
      throw new Error(`tag ${name} as ${repo}:${tag}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
    }
  } finally {
    await client.close().catch(() => {});
  }
}

/** GET /images/json, the number of images listed. */
export async function countImages(socket: string): Promise<number> {
  const client = new Client('http://localhost', { socketPath: socket });
  try {
    const response = await client.request({ method: 'GET', path: '/images/json' });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`GET /images/json: HTTP ${response.statusCode}`);
    const list = JSON.parse(text) as unknown;
    if (!Array.isArray(list)) throw new Error('GET /images/json: not a JSON array');
    return list.length;
  } finally {
    await client.close().catch(() => {});
  }
}

/** DELETE /images/{name}?force=1 */
export async function removeImage(socket: string, name: string): Promise<void> {
  const client = new Client('http://localhost', { socketPath: socket });
  try {
    const response = await client.request({
      method: 'DELETE',
      path: `/images/${encodeURIComponent(name)}?force=1`,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      throw new Error(`remove ${name}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
    }
  } finally {
    await client.close().catch(() => {});
  }
}
