// Long responses (pull, push, events): each runs under an AbortSignal that fires when its client goes away or the
// daemon shuts down, and a job's messages become a JSON-lines body that starts only with the first message.
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import { errorMessage, type JSONMessage } from '../../api-spec/json-message.ts';
import { RegistryChallengeError } from '../errors.ts';
import { IdleCollection } from '../idle-collection.ts';
import type { StreamingJob } from '../images/image-service.ts';
import { challengeStreamMessage } from './challenge.ts';
import { failureLog } from './errors.ts';
import { DEFAULT_STREAM_LIMITS, JSON_MESSAGES, MessageWriter, type StreamLimits } from './message-writer.ts';
import type { StreamChannel } from './stream-channel.ts';

export interface StreamScope {
  readonly signal: AbortSignal;
  /** Stops the job from the server's side (its client stopped reading). */
  cancel(reason: Error): void;
  /** How long and how much a client that does not read is waited for. */
  readonly limits: StreamLimits;
  /** True once the client disconnected before the response was complete. */
  readonly clientGone: boolean;
}

/**
 * An operation's stream (a pull, a push, a load) moves data and leaves garbage; a watch's (events) idles as long as
 * its client likes, and does not keep the daemon from collecting once the operations are over.
 */
export type StreamKind = 'operation' | 'watch';

/** The streams in flight, so shutdown can abort them all. */
export class ActiveStreams {
  readonly #controllers = new Set<AbortController>();
  #onEmpty: (() => void)[] = [];
  readonly #limits: StreamLimits;
  readonly #idle = new IdleCollection();

  constructor(limits: StreamLimits = DEFAULT_STREAM_LIMITS) {
    this.#limits = limits;
  }

  open(reply: FastifyReply, kind: StreamKind = 'operation'): StreamScope {
    const controller = new AbortController();
    this.#controllers.add(controller);
    if (kind === 'operation') this.#idle.began();
    let clientGone = false;
    reply.raw.once('close', () => {
      this.#controllers.delete(controller);
      if (kind === 'operation') this.#idle.ended();
      if (!reply.raw.writableFinished) {
        clientGone = true;
        controller.abort(new Error('the client disconnected'));
      }
      if (this.#controllers.size === 0) for (const resolve of this.#onEmpty.splice(0)) resolve();
    });
    return {
      signal: controller.signal,
      cancel: (reason) => controller.abort(reason),
      limits: this.#limits,
      get clientGone() {
        return clientGone;
      },
    };
  }

  abortAll(reason: Error): void {
    for (const c of this.#controllers) c.abort(reason);
  }

  /** Resolves once no stream is in flight (their responses have ended). */
  drained(): Promise<void> {
    if (this.#controllers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#onEmpty.push(resolve));
  }
}

/**
 * Runs a prepared job into the response. Nothing is written until its first message, so a failure before that
 * (a registry challenge included) is thrown for the error handler to answer with an HTTP status, as moby does while
 * nothing is flushed. After the first message, failures become the stream's last line, and a side `channel` (when
 * the client opted in) may put challenges in the stream.
 */
export async function streamJob(
  reply: FastifyReply,
  job: StreamingJob,
  scope: StreamScope,
  log: FastifyBaseLogger,
  channel?: StreamChannel,
): Promise<void> {
  const raw = reply.raw;
  const writer = new MessageWriter(raw, JSON_MESSAGES, { limits: scope.limits, onCutOff: scope.cancel });
  let started = false;
  const emit = (message: JSONMessage): void => {
    if (scope.clientGone || raw.writableEnded) return;
    if (!started) {
      started = true;
      reply.hijack();
      raw.writeHead(200, { 'Content-Type': 'application/json' });
      writer.write(message);
      channel?.attach(emit);
      return;
    }
    writer.write(message);
  };
  try {
    await job.run(emit, scope.signal);
  } catch (err) {
    channel?.close();
    if (scope.clientGone) {
      reply.hijack();
      return;
    }
    if (!started) throw err;
    log.warn(failureLog(err), 'stream ended with an error');
    writer.end(failureMessage(err));
    return;
  }
  channel?.close();
  if (!started) {
    if (scope.clientGone) reply.hijack();
    else reply.code(200).type('application/json').send('');
    return;
  }
  writer.end();
}

function failureMessage(err: unknown): JSONMessage {
  if (err instanceof RegistryChallengeError) return challengeStreamMessage(err);
  return errorMessage(err instanceof Error ? err.message : String(err));
}
