// An in-process registry for the distribution unit tests: a loopback HTTP server whose answers each test writes
// as a function of the request, recording every request it received (headers included).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FakeRegistry {
  /** 127.0.0.1:PORT */
  host: string;
  origin: string;
  seen: SeenRequest[];
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startFakeRegistry(address = '127.0.0.1'): Promise<FakeRegistry> {
  let handler: Handler = (_req, res) => res.writeHead(404).end();
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, address, () => resolve()));
  const { port } = server.address() as AddressInfo;
  const host = `${address}:${port}`;
  return {
    host,
    origin: `http://${host}`,
    seen,
    handle(h) {
      handler = h;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
