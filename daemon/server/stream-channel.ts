// The ChallengeChannel of one streamed operation (authChannel): a challenge becomes a stream message carrying an id,
// and the operation's request that needs it waits for the answer on the side channel. Several requests challenged by
// one registry at once share one question, so the client answers (and its token server is asked) once.
import type { JSONMessage } from '../../api-spec/json-message.ts';
import type { ChallengeChannel, ClientAnswer, ClientChallenge } from '../images/image-service.ts';
import type { PendingChallenges } from './pending-challenges.ts';

export class StreamChannel implements ChallengeChannel {
  readonly #pending: PendingChallenges;
  readonly #signal: AbortSignal;
  /** Ends every question still open when the operation is over, however it ended. */
  readonly #ended = new AbortController();
  #emit: ((message: JSONMessage) => void) | undefined;
  /** The question in flight per registry host. */
  readonly #asking = new Map<string, Promise<ClientAnswer>>();

  constructor(pending: PendingChallenges, signal: AbortSignal) {
    this.#pending = pending;
    this.#signal = AbortSignal.any([signal, this.#ended.signal]);
  }

  get streaming(): boolean {
    return this.#emit !== undefined;
  }

  /** Called with the stream's writer once its first message is out. */
  attach(emit: (message: JSONMessage) => void): void {
    this.#emit = emit;
  }

  /** The operation is over: open questions fail, and later ones (a renewal timer firing late) fail at once. */
  close(): void {
    this.#ended.abort(new Error('the operation has ended'));
  }

  ask(challenge: ClientChallenge): Promise<ClientAnswer> {
    const emit = this.#emit;
    if (emit === undefined) {
      return Promise.reject(new Error('a challenge can be asked in the stream only once it has started'));
    }
    const inFlight = this.#asking.get(challenge.registry);
    if (inFlight) return inFlight;
    const { id, answer } = this.#pending.open(challenge.registry, this.#signal);
    const settled = answer.finally(() => this.#asking.delete(challenge.registry));
    this.#asking.set(challenge.registry, settled);
    emit({
      aux: {
        authChallenge: {
          id,
          registry: challenge.registry,
          repository: challenge.repository,
          challenges: [...challenge.lines],
          ...(challenge.renewal ? { renewal: true } : {}),
        },
      },
    });
    return settled;
  }
}
