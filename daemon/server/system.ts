// System routes: _ping (GET and HEAD), version, info, events, auth (docker login) and df (disk usage).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseAuthConfig } from '../../api-spec/auth-config.ts';
import type { EventMessage } from '../../api-spec/types.ts';
import type { RouteContext } from './context.ts';
import {
  eventsMediaType,
  formatEvent,
  inTimeRange,
  matchesFilters,
  parseEventQuery,
  withLegacyFields,
} from './event-query.ts';
import { MessageWriter } from './message-writer.ts';
import { clientAuthOf } from './request-auth.ts';
import { addOperation } from './routes.ts';
import { systemInfoTemplate, systemVersion, withLive } from './system-info.ts';
import { isApiBefore } from './version.ts';

const MAX_TIMER_MS = 2 ** 31 - 1;

const PING_HEADERS = {
  'Content-Type': 'text/plain; charset=utf-8',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
  Swarm: 'inactive',
};

export async function systemRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { service, doc } = ctx;
  const version = systemVersion();
  const info = systemInfoTemplate(ctx.config);

  addOperation(app, doc, 'GET', '/_ping', (_req, reply) => reply.headers(PING_HEADERS).send('OK'));
  addOperation(app, doc, 'HEAD', '/_ping', (_req, reply) => reply.headers(PING_HEADERS).send(''));
  addOperation(app, doc, 'GET', '/version', async () => version);
  addOperation(app, doc, 'GET', '/info', async () => withLive(info, await service.count()));

  addOperation(app, doc, 'POST', '/auth', async (request) => {
    const auth = parseAuthConfig(request.body, 'POST /auth body');
    return service.login({ auth, clientAuth: clientAuthOf(request) });
  });

  addOperation(app, doc, 'GET', '/events', (request, reply) => streamEvents(request, reply, ctx));
  addOperation(app, doc, 'GET', '/system/df', async () => service.diskUsage());
}

/** Past events in range first, then live ones, until `until` passes or the client (or the daemon) goes away. */
async function streamEvents(request: FastifyRequest, reply: FastifyReply, ctx: RouteContext): Promise<void> {
  const query = parseEventQuery(request.query as { since?: string; until?: string; filters?: string });
  const scope = ctx.streams.open(reply, 'watch');
  const raw = reply.raw;
  reply.hijack();
  const type = eventsMediaType(request.headers.accept);
  raw.writeHead(200, { 'Content-Type': type });
  raw.flushHeaders();

  const legacy = isApiBefore(request, '1.52');
  const writer = new MessageWriter<EventMessage>(
    raw,
    { line: (event) => formatEvent(JSON.stringify(legacy ? withLegacyFields(event) : event), type) },
    { limits: scope.limits, onCutOff: scope.cancel },
  );
  const write = (event: EventMessage) => {
    if (inTimeRange(event, query) && matchesFilters(event, query.filters)) writer.write(event);
  };
  // history() and subscribe() in the same tick: no event can fall between them.
  const past = ctx.service.events.history();
  const unsubscribe = ctx.service.events.subscribe(write);
  let timer: NodeJS.Timeout | undefined;
  try {
    for (const event of past) write(event);
    const remainingMs = query.until === undefined ? Number.POSITIVE_INFINITY : query.until / 1e6 - Date.now();
    if (remainingMs > 0 && !scope.signal.aborted) {
      await new Promise<void>((resolve) => {
        scope.signal.addEventListener('abort', () => resolve(), { once: true });
        // Beyond setTimeout's range (~24 days) the stream simply stays open until the client leaves.
        if (remainingMs <= MAX_TIMER_MS) timer = setTimeout(resolve, remainingMs);
      });
    }
  } finally {
    unsubscribe();
    clearTimeout(timer);
    writer.end();
  }
}
