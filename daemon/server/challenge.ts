// clientAuth: how a registry challenge reaches the API client, as HTTP 401 before the stream, or as a stream message.
import type { FastifyReply } from 'fastify';
import {
  type AuthChallengeBody,
  REGISTRY_HOST_HEADER,
  WWW_AUTHENTICATE_HEADER,
} from '../../api-spec/auth-challenge.ts';
import type { JSONMessage } from '../../api-spec/json-message.ts';
import type { RegistryChallengeError } from '../errors.ts';

/**
 * HTTP 401 with each registry WWW-Authenticate line as its own header line, untouched (an array makes node write one
 * line per value instead of joining them), Docker-Registry-Host naming who challenged, and the lines again in the
 * body for clients that cannot read headers from an error (dockerode).
 */
export function sendChallenge(reply: FastifyReply, err: RegistryChallengeError): FastifyReply {
  const body: AuthChallengeBody = {
    message: err.message,
    registry: err.registry,
    repository: err.repository,
    challenges: [...err.lines],
  };
  reply.code(401).header(REGISTRY_HOST_HEADER, err.registry);
  if (err.lines.length > 0) reply.header(WWW_AUTHENTICATE_HEADER, [...err.lines]);
  return reply.send(body);
}

/** The last line of a stream that a registry challenged after it had started (Dockhand's aux extension). */
export function challengeStreamMessage(err: RegistryChallengeError): JSONMessage {
  return {
    errorDetail: { code: 401, message: err.message },
    error: err.message,
    aux: {
      authChallenge: { registry: err.registry, repository: err.repository, challenges: [...err.lines] },
    },
  };
}
