// Per-request log lines at debug level (as dockerd logs API calls), each with fastify's request id. The request is
// serialized by daemon/log.ts: method, URL and headers with credentials redacted, never the body.
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const res = { statusCode: reply.statusCode };
    if (error) request.log.warn({ res, err: error, responseTime: reply.elapsedTime }, 'request failed');
    else request.log.debug({ res, responseTime: reply.elapsedTime }, 'request completed');
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'route not found');
  }
}
