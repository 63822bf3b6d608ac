// The "other origin" a front redirects blob GETs to, like a registry handing out pre-signed storage URLs. A ticket
// in the URL stands for the blob path and the credential of the request that was redirected; this server fetches
// the blob from the registry with that credential, so the client needs none here. It records whether the client
// sent an Authorization header anyway (which would leak the registry credential to another origin).
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { pipeline } from 'node:stream/promises';
import { type AuthSeen, authSeen } from './auth-record.ts';

export interface RedirectRecord {
  time: number;
  method: string;
  path: string;
  /** Host header the client used: 'localhost:PORT' or '127.0.0.1:PORT'. */
  host: string | undefined;
  auth: AuthSeen;
  range: string | undefined;
  status: number;
  bytes: number;
}

export interface RedirectTarget {
  port: number;
  /** Base URL per redirect flavour. */
  origin(to: 'other-host' | 'other-port'): string;
  /** Registers a blob to serve; returns the ticket path. */
  ticket(path: string, authorization: string | undefined): string;
  requests(): RedirectRecord[];
  reset(): void;
  stop(): Promise<void>;
}

const PASSED_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'docker-content-digest',
  'etag',
];

export async function startRedirectTarget(targetUrl: URL): Promise<RedirectTarget> {
  const tickets = new Map<string, { path: string; authorization: string | undefined }>();
  let records: RedirectRecord[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const record: RedirectRecord = {
      time: Date.now(),
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      host: req.headers.host,
      auth: authSeen(req.headers.authorization),
      range: req.headers.range,
      status: 0,
      bytes: 0,
    };
    records.push(record);
    const ticket = tickets.get(/^\/blob\/([\w-]+)$/.exec(req.url ?? '')?.[1] ?? '');
    if (!ticket || (req.method !== 'GET' && req.method !== 'HEAD')) {
      record.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such ticket');
      return;
    }
    const headers: Record<string, string> = {};
    if (ticket.authorization) headers['authorization'] = ticket.authorization;
    if (req.headers.range) headers['range'] = req.headers.range;
    const upstream = httpRequest(new URL(ticket.path, targetUrl), { method: req.method, headers }, (up) => {
      record.status = up.statusCode ?? 502;
      const out: Record<string, string> = {};
      for (const name of PASSED_HEADERS) {
        const value = up.headers[name];
        if (typeof value === 'string') out[name] = value;
      }
      res.writeHead(record.status, out);
      up.on('data', (chunk: Buffer) => {
        record.bytes += chunk.length;
      });
      pipeline(up, res).catch(() => res.destroy());
    });
    upstream.on('error', () => {
      record.status = 502;
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    upstream.end();
  };

  const servers: Server[] = [];
  const listen = (host: string, port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer(handle);
      server.once('error', reject);
      server.listen(port, host, () => {
        servers.push(server);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const port = await listen('127.0.0.1', 0);
  // `localhost` may resolve to ::1 first on some machines; serve there too when IPv6 loopback exists.
  await listen('::1', port).catch(() => undefined);

  let nextTicket = 1;
  return {
    port,
    origin: (to) => (to === 'other-host' ? `http://localhost:${port}` : `http://127.0.0.1:${port}`),
    ticket(path, authorization) {
      const id = `t${nextTicket++}`;
      tickets.set(id, { path, authorization });
      return `/blob/${id}`;
    },
    requests: () => records.map((r) => ({ ...r })),
    reset() {
      records = [];
    },
    async stop() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
