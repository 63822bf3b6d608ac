// A registry stand-in for tests that need a registry to misbehave in ways the rig's front does not: it forwards to a
// real registry (or token server), lets a test answer or rewrite chosen requests, and records what it received.
// Listens on one address and port, over TLS when given a certificate, and optionally plain HTTP on the same port
// (the first byte tells a TLS handshake from a request), so `https://host:port` and `http://host:port` are one
// host and port under two schemes.

import { readFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import type { ServerCertificate } from '../rig/tls.ts';

export interface ProxiedRequest {
  method: string;
  path: string;
  scheme: 'http' | 'https';
  authorization: string | undefined;
}

export interface RegistryProxyOptions {
  /** Where requests are forwarded, e.g. http://127.0.0.1:5000. */
  target: string;
  address: string;
  tls?: ServerCertificate;
  /** Also answer plain HTTP on the TLS port (requires `tls`). */
  plainToo?: boolean;
  /** Answers a request itself (return true) instead of forwarding it. */
  answer?(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https'): boolean;
  /** Rewrites each WWW-Authenticate line the target sends. */
  rewriteChallenge?(line: string, req: IncomingMessage): string;
}

export interface RegistryProxy {
  /** host:port */
  host: string;
  port: number;
  requests(): ProxiedRequest[];
  stop(): Promise<void>;
}

export async function startRegistryProxy(options: RegistryProxyOptions): Promise<RegistryProxy> {
  const target = new URL(options.target);
  const seen: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const handler = (scheme: 'http' | 'https') => (req: IncomingMessage, res: ServerResponse) => {
    seen.push({
      method: req.method ?? '',
      path: req.url ?? '',
      scheme,
      authorization: req.headers.authorization,
    });
    if (options.answer?.(req, res, scheme)) return;
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        const headers: OutgoingHttpHeaders = { ...answer.headers };
        const challenge = answer.headers['www-authenticate'];
        const rewrite = options.rewriteChallenge;
        if (challenge !== undefined && rewrite) headers['www-authenticate'] = rewrite(challenge, req);
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  const plain = createHttpServer(handler('http'));
  const secure = options.tls
    ? createHttpsServer(
        { cert: await readFile(options.tls.certPath), key: await readFile(options.tls.keyPath) },
        handler('https'),
      )
    : undefined;
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (first) => {
      socket.pause();
      socket.unshift(first);
      const tlsHandshake = first[0] === 0x16;
      if (tlsHandshake && secure) secure.emit('connection', socket);
      else if (!secure || options.plainToo) plain.emit('connection', socket);
      else socket.destroy();
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.address, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.address.includes(':') ? `[${options.address}]:${port}` : `${options.address}:${port}`;
  return {
    host,
    port,
    requests: () => [...seen],
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
