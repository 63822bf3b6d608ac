// The side channel: POST /auth/challenges/{id} answers (X-Registry-Auth) or declines a challenge that a pull or push
// put in its stream. The body was checked against openapi.yaml's ChallengeAnswerBody by the route's schema.
import type { FastifyInstance } from 'fastify';
import type { ChallengeAnswerBody } from '../../api-spec/auth-challenge.ts';
import { InvalidParameterError, NotFoundError } from '../errors.ts';
import type { RouteContext } from './context.ts';
import { registryAuthOf } from './request-auth.ts';
import { addOperation } from './routes.ts';

export async function challengeAnswerRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  addOperation(app, ctx.doc, 'POST', '/auth/challenges/{id}', async (request, reply) => {
    const { id } = request.params as { id: string };
    const body = (request.body ?? {}) as ChallengeAnswerBody;
    let found: boolean;
    if (body.decline !== undefined) {
      found = ctx.challenges.decline(id, body.decline);
    } else {
      const auth = registryAuthOf(request);
      if (Object.keys(auth).length === 0) {
        throw new InvalidParameterError('an answer needs X-Registry-Auth, or a body with "decline"');
      }
      const expiresAt = body.expiresIn === undefined ? undefined : Date.now() + body.expiresIn * 1000;
      found = ctx.challenges.answer(id, { auth, ...(expiresAt === undefined ? {} : { expiresAt }) });
    }
    if (!found) throw new NotFoundError(`no challenge waits for an answer under id ${id}`);
    return reply.code(204).send();
  });
}
