// A scripted stand-in for the daemon: node:http on a unix socket in a temp dir. Each test says how to answer;
// every request is recorded (method, url, headers, body) so the test can check what the SDK sent.

import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { decodeAuthConfig } from '../../../api-spec/index.ts';

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Resolves when the connection of this request closed (the client went away or the answer ended). */
  closed: Promise<void>;
}

export type Route = (req: RecordedRequest, res: http.ServerResponse) => unknown;

export interface FakeDaemon {
  socketPath: string;
  requests: RecordedRequest[];
  /** Requests other than the /_ping negotiation. */
  calls(): RecordedRequest[];
  /** Resolves once `count` such requests have arrived. */
  waitForCalls(count: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

export interface FakeDaemonOptions {
  apiVersion?: string;
  /** Status for HEAD /_ping (GET still answers 200), to exercise the fallback. */
  headPingStatus?: number;
}

export async function startFakeDaemon(route: Route, options: FakeDaemonOptions = {}): Promise<FakeDaemon> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dockhand-fake-'));
  const socketPath = path.join(dir, 'd.sock');
  const requests: RecordedRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      url: new URL(req.url ?? '/', 'http://daemon'),
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      closed: new Promise((resolve) => res.on('close', () => resolve())),
    };
    requests.push(recorded);
    if (recorded.url.pathname === '/_ping') {
      const status = req.method === 'HEAD' ? (options.headPingStatus ?? 200) : 200;
      res.writeHead(status, { 'api-version': options.apiVersion ?? '1.50', 'content-type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    try {
      await route(recorded, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: (err as Error).message }));
    }
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const calls = () => requests.filter((r) => r.url.pathname !== '/_ping');
  return {
    socketPath,
    requests,
    calls,
    async waitForCalls(count) {
      while (calls().length < count) await new Promise((r) => setTimeout(r, 10));
      return calls();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The X-Registry-Auth a request carried, decoded (undefined when absent). */
export function sentAuth(req: RecordedRequest): ReturnType<typeof decodeAuthConfig> | undefined {
  const header = req.headers['x-registry-auth'];
  return typeof header === 'string' ? decodeAuthConfig(header) : undefined;
}

/** The clientAuth 401, as the daemon sends it before any stream byte. */
export function answerChallenge(
  res: http.ServerResponse,
  challenge: { registry: string; repository: string; lines: string[] },
): void {
  res.writeHead(401, {
    'content-type': 'application/json',
    'docker-registry-host': challenge.registry,
    'www-authenticate': challenge.lines,
  });
  res.end(
    JSON.stringify({
      message: `authentication required by registry ${challenge.registry} for repository ${challenge.repository}`,
      registry: challenge.registry,
      repository: challenge.repository,
      challenges: challenge.lines,
    }),
  );
}

export function writeMessage(res: http.ServerResponse, message: object): void {
  res.write(`${JSON.stringify(message)}\r\n`);
}

export function startStream(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
}
