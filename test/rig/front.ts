// An HTTP front placed before a real registry: it records every request (never a credential in clear), bends the
// registry's auth answers into the shapes of registries in the wild (modes) and injects transport faults.
// Absolute URLs the registry builds (Location, a realm on the registry's own origin) are moved to the front's
// origin so clients keep talking to the front.
import { once } from 'node:events';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AuthSeen, authSeen } from './auth-record.ts';
import {
  ArmedFault,
  type BodyFault,
  classify,
  describeFault,
  type Fault,
  type HoldFault,
  type RangeFault,
  type RequestKind,
  type RevokeFault,
  type StatusFault,
  statusFaultBody,
} from './front-faults.ts';
import { type FrontMode, type ModeContext, rewriteChallenge } from './front-modes.ts';
import { trackService } from './processes.ts';
import { type RedirectRecord, type RedirectTarget, startRedirectTarget } from './redirect-target.ts';

export type {
  BodyFault,
  Fault,
  FaultMatch,
  HoldFault,
  RangeFault,
  RequestKind,
  RevokeFault,
  StatusFault,
  WarningFault,
} from './front-faults.ts';
export type { FrontMode } from './front-modes.ts';
export type { RedirectRecord } from './redirect-target.ts';

export interface FrontRecord {
  seq: number;
  time: number;
  method: string;
  path: string;
  /** Query string without '?', '' when none. */
  query: string;
  kind: RequestKind;
  repository: string | undefined;
  auth: AuthSeen;
  range: string | undefined;
  status: number;
  /** Body bytes the front wrote to the client. */
  bytes: number;
  /** WWW-Authenticate lines sent to the client (after the mode's rewrite). */
  challenges: string[];
  location: string | undefined;
  mode: FrontMode;
  /** Faults applied, e.g. ['status:503'], ['reset:1000']. */
  faults: string[];
  /** False when the front answered alone (v2-open ping, status fault). */
  upstream: boolean;
  /** Set when the front itself failed (502: registry unreachable, 500: a bug in the front). */
  error: string | undefined;
  durationMs: number;
}

export interface FrontOptions {
  /** Base URL of the real registry, e.g. registry.url. */
  target: string;
  mode?: FrontMode;
  faults?: Fault[];
  /** Realm named after insufficient_scope in 'pull-push-scope' mode. Default: the challenge realm with '/alt' put
   *  before its path (the rig token server serves /token and /alt/token). */
  altRealm?: string;
}

export interface Front {
  /** 127.0.0.1:PORT */
  host: string;
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  requests(): FrontRecord[];
  /** Clears the records (front and redirect target); mode and faults stay. */
  reset(): void;
  setMode(mode: FrontMode): void;
  /** Replaces the faults; each starts counting from zero. Resolves once a redirect target is up, if needed. */
  setFaults(faults: Fault[]): Promise<void>;
  /** The server blob redirects go to; present once a redirect fault was set. */
  redirectTarget: { requests(): RedirectRecord[]; port: number } | undefined;
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

function forwardHeaders(headers: IncomingHttpHeaders, targetHost: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  }
  out['host'] = targetHost;
  return out;
}

function defaultAltRealm(line: string): string | undefined {
  const realm = /realm="([^"]+)"/.exec(line)?.[1];
  // A Basic realm is a name, not a URL.
  if (!realm || !URL.canParse(realm)) return undefined;
  const url = new URL(realm);
  url.pathname = `/alt${url.pathname}`;
  return url.toString();
}

export async function startFront(options: FrontOptions): Promise<Front> {
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true });
  let mode: FrontMode = options.mode ?? 'passthrough';
  let faults = (options.faults ?? []).map((fault) => new ArmedFault(fault));
  /** sha256 of the bearer tokens a revoke-token fault revoked; cleared with the faults. */
  let revoked = new Set<string>();
  let records: FrontRecord[] = [];
  let seq = 0;
  let redirectTarget: RedirectTarget | undefined;
  let frontOrigin = '';

  let redirectStarting: Promise<RedirectTarget> | undefined;
  const ensureRedirectTarget = () => {
    redirectStarting ??= startRedirectTarget(target).then((started) => {
      redirectTarget = started;
      return started;
    });
    return redirectStarting;
  };
  if (faults.some((f) => f.fault.type === 'redirect')) await ensureRedirectTarget();

  const context = (line: string): ModeContext => ({
    altRealm: options.altRealm ?? defaultAltRealm(line),
    targetOrigin: target.origin,
    frontOrigin,
  });

  function open(req: IncomingMessage, res: ServerResponse): { record: FrontRecord; url: URL } {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://front');
    const method = (req.method ?? 'GET').toUpperCase();
    const { kind, repository } = classify(url.pathname);
    const record: FrontRecord = {
      seq: ++seq,
      time: started,
      method,
      path: url.pathname,
      query: url.search.slice(1),
      kind,
      repository,
      auth: authSeen(req.headers.authorization),
      range: req.headers.range,
      status: 0,
      bytes: 0,
      challenges: [],
      location: undefined,
      mode,
      faults: [],
      upstream: true,
      error: undefined,
      durationMs: 0,
    };
    records.push(record);
    res.once('close', () => {
      record.durationMs = Date.now() - started;
    });
    return { record, url };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, record: FrontRecord, url: URL) {
    const { kind, method } = record;
    const facts = { kind, method, path: url.pathname };
    const matching = faults.filter((f) => f.fits(facts));

    if (mode === 'v2-open' && kind === 'ping' && (method === 'GET' || method === 'HEAD')) {
      record.upstream = false;
      record.status = 200;
      req.resume();
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': '2',
        'docker-distribution-api-version': 'registry/2.0',
      });
      if (method === 'GET') record.bytes = 2;
      res.end(method === 'GET' ? '{}' : undefined);
      return;
    }

    // Every status fault counts this request; the first one that applies answers it.
    const statusHit = matching
      .filter((f): f is ArmedFault & { fault: StatusFault } => f.fault.type === 'status')
      .filter((f) => f.take())[0];
    if (statusHit) {
      const { fault } = statusHit;
      record.upstream = false;
      record.status = fault.status;
      record.faults.push(describeFault(fault));
      req.resume();
      const body = statusFaultBody(fault.status);
      const headers: OutgoingHttpHeaders = {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'docker-distribution-api-version': 'registry/2.0',
      };
      const retryAfter = fault.retryAfter ?? (fault.status === 429 ? 1 : undefined);
      if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
      res.writeHead(fault.status, headers);
      record.bytes = method === 'HEAD' ? 0 : Buffer.byteLength(body);
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }

    const hold = matching
      .filter((f): f is ArmedFault & { fault: HoldFault } => f.fault.type === 'hold')
      .filter((f) => f.take())[0];
    if (hold) {
      record.faults.push(describeFault(hold.fault));
      await sleep(hold.fault.ms);
    }
    const headers = forwardHeaders(req.headers, target.host);
    const rangeFault = matching
      .filter((f): f is ArmedFault & { fault: RangeFault } => f.fault.type === 'ignore-range')
      .filter(() => req.headers.range !== undefined)
      .filter((f) => f.take())[0];
    if (rangeFault) {
      delete headers['range'];
      record.faults.push(describeFault(rangeFault.fault));
    }
    const bearer = /^Bearer ([^.\s]+\.[^.\s]+\.)(\S)(\S*)$/i.exec(req.headers.authorization ?? '');
    if (bearer) {
      // Kept as a hash: the front holds no credential.
      const token = authSeen(req.headers.authorization).sha256 ?? '';
      const revoking = matching
        .filter((f): f is ArmedFault & { fault: RevokeFault } => f.fault.type === 'revoke-token')
        .filter((f) => f.take())[0];
      if (revoking) revoked.add(token);
      if (revoked.has(token)) {
        // Another first character of the signature: still a well-formed JWT, no longer one the registry trusts.
        headers['authorization'] = `Bearer ${bearer[1]}${bearer[2] === 'A' ? 'B' : 'A'}${bearer[3]}`;
        record.faults.push('revoke-token');
      }
    }
    const upstreamReq = httpRequest(new URL(url.pathname + url.search, target), { method, headers, agent });
    req.pipe(upstreamReq);
    res.once('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    let up: IncomingMessage;
    try {
      [up] = (await once(upstreamReq, 'response')) as [IncomingMessage];
    } catch (error) {
      record.status = 502;
      record.error = String(error);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(String(error));
      return;
    }
    await respond(req, res, up, record, matching);
  }

  async function respond(
    req: IncomingMessage,
    res: ServerResponse,
    up: IncomingMessage,
    record: FrontRecord,
    matching: ArmedFault[],
  ) {
    let status = up.statusCode ?? 502;
    const headers: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(up.headersDistinct)) {
      if (!HOP_BY_HOP.has(name) && values) headers[name] = values;
    }
    if (headers['location']) headers['location'] = headers['location'].map((l) => onFront(l));
    if (headers['www-authenticate']) {
      headers['www-authenticate'] = headers['www-authenticate'].map((line) =>
        rewriteChallenge(line, mode, context(line)),
      );
    }
    let replacementBody: string | undefined;
    if (status === 401 && mode === 'no-www-authenticate') delete headers['www-authenticate'];
    if (status === 401 && mode === 'forbidden' && record.kind !== 'ping') {
      status = 403;
      delete headers['www-authenticate'];
      replacementBody = JSON.stringify({
        errors: [{ code: 'DENIED', message: 'requested access to the resource is denied', detail: null }],
      });
    }

    for (const armed of matching) {
      if (armed.fault.type !== 'warning' || !armed.take()) continue;
      headers['warning'] = [...(headers['warning'] ?? []), `299 - "${armed.fault.text}"`];
      record.faults.push(describeFault(armed.fault));
    }
    const hasBody = (status === 200 || status === 206) && req.method !== 'HEAD';
    const bodyFaults = hasBody
      ? matching.filter(
          (f): f is ArmedFault & { fault: BodyFault } =>
            f.fault.type !== 'status' &&
            f.fault.type !== 'warning' &&
            f.fault.type !== 'ignore-range' &&
            f.fault.type !== 'revoke-token' &&
            f.fault.type !== 'hold' &&
            f.take(),
        )
      : [];
    const redirect = bodyFaults.find((f) => f.fault.type === 'redirect')?.fault;
    if (redirect?.type === 'redirect') {
      up.destroy();
      const to = await ensureRedirectTarget();
      const location = to.origin(redirect.to) + to.ticket(record.path, req.headers.authorization);
      record.status = redirect.status ?? 307;
      record.location = location;
      record.faults.push(describeFault(redirect));
      res.writeHead(record.status, { location, 'content-length': '0' }).end();
      return;
    }

    if (replacementBody !== undefined) {
      up.resume();
      headers['content-length'] = [String(Buffer.byteLength(replacementBody))];
      headers['content-type'] = ['application/json; charset=utf-8'];
    }
    record.status = status;
    record.challenges = headers['www-authenticate'] ?? [];
    record.location = headers['location']?.[0];
    record.faults.push(...bodyFaults.map((f) => describeFault(f.fault)));
    res.writeHead(status, headers);
    if (replacementBody !== undefined) {
      record.bytes = req.method === 'HEAD' ? 0 : Buffer.byteLength(replacementBody);
      res.end(req.method === 'HEAD' ? undefined : replacementBody);
      return;
    }
    const contentLength = Number(up.headers['content-length'] ?? Number.NaN);
    await streamBody(
      up,
      res,
      record,
      bodyFaults.map((f) => f.fault),
      contentLength,
    );
  }

  function onFront(value: string): string {
    return value.startsWith(target.origin) ? frontOrigin + value.slice(target.origin.length) : value;
  }

  const server = createServer((req, res) => {
    const { record, url } = open(req, res);
    handle(req, res, record, url).catch((error: unknown) => {
      record.error = String(error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      record.status = 500;
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('front: no address');
  frontOrigin = `http://127.0.0.1:${address.port}`;

  return {
    host: `127.0.0.1:${address.port}`,
    url: frontOrigin,
    port: address.port,
    requests: () => records.map((r) => ({ ...r })),
    reset() {
      records = [];
      redirectTarget?.reset();
    },
    setMode(next) {
      mode = next;
    },
    async setFaults(next) {
      faults = next.map((fault) => new ArmedFault(fault));
      revoked = new Set();
      if (faults.some((f) => f.fault.type === 'redirect')) await ensureRedirectTarget();
    },
    get redirectTarget() {
      return redirectTarget;
    },
    stop: trackService(async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
      await (await redirectStarting)?.stop();
    }),
  };
}

/** Streams the registry's body to the client through the body faults. */
async function streamBody(
  up: IncomingMessage,
  res: ServerResponse,
  record: FrontRecord,
  faults: BodyFault[],
  contentLength: number,
): Promise<void> {
  let flipAt: number | undefined;
  let cut: { afterBytes: number; how: 'reset' | 'truncate' } | undefined;
  let bytesPerSecond: number | undefined;
  for (const fault of faults) {
    if (fault.type === 'flip')
      flipAt = fault.atByte ?? (Number.isFinite(contentLength) ? Math.floor(contentLength / 2) : 0);
    if (fault.type === 'reset' || fault.type === 'truncate')
      cut = { afterBytes: fault.afterBytes, how: fault.type };
    if (fault.type === 'slow') bytesPerSecond = fault.bytesPerSecond;
  }
  const started = Date.now();
  let served = 0;
  const write = async (chunk: Buffer) => {
    if (res.destroyed) return false;
    served += chunk.length;
    record.bytes = served;
    if (!res.write(chunk)) await drainOrClose(res);
    return !res.destroyed;
  };
  try {
    for await (const data of up) {
      let chunk = data as Buffer;
      if (flipAt !== undefined && flipAt >= served && flipAt < served + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[flipAt - served]! ^= 0xff;
      }
      if (cut && served + chunk.length >= cut.afterBytes) {
        chunk = chunk.subarray(0, cut.afterBytes - served);
      }
      if (bytesPerSecond === undefined) {
        if (!(await write(chunk))) break;
      } else {
        const slice = Math.max(1, Math.floor(bytesPerSecond / 20));
        for (let offset = 0; offset < chunk.length; offset += slice) {
          if (!(await write(chunk.subarray(offset, offset + slice)))) break;
          const due = started + (served / bytesPerSecond) * 1000;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        if (res.destroyed) break;
      }
      if (cut && served >= cut.afterBytes) {
        await cutConnection(res, cut.how);
        return;
      }
    }
  } finally {
    up.destroy();
  }
  if (!res.destroyed) res.end();
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function cutConnection(res: ServerResponse, how: 'reset' | 'truncate'): Promise<void> {
  const socket = res.socket as Socket | null;
  if (!socket) return;
  if (how === 'truncate') {
    // FIN after the bytes already written: the client sees the body end before Content-Length.
    socket.end();
    return;
  }
  // Let the written bytes reach the peer before the RST discards the send queue.
  await sleep(20);
  socket.resetAndDestroy();
}
