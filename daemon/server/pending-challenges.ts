// Challenges put in a stream wait here for their answer on the side channel (POST /auth/challenges/{id}). Each has
// an unguessable id, a deadline, and ends with its operation: nothing waits for an answer nobody will give.
import { randomBytes } from 'node:crypto';
import { ChallengeDeclinedError, ChallengeTimeoutError } from '../errors.ts';
import type { ClientAnswer } from '../images/image-service.ts';

interface Waiter {
  registry: string;
  resolve(answer: ClientAnswer): void;
  reject(error: Error): void;
}

export class PendingChallenges {
  readonly #waiting = new Map<string, Waiter>();
  readonly #timeoutSeconds: number;

  constructor(timeoutSeconds: number) {
    this.#timeoutSeconds = timeoutSeconds;
  }

  /** Registers a challenge of `registry`; `answer` settles with the client's answer, its decline, the deadline or `signal`. */
  open(registry: string, signal: AbortSignal): { id: string; answer: Promise<ClientAnswer> } {
    const id = randomBytes(16).toString('hex');
    const answer = new Promise<ClientAnswer>((resolve, reject) => {
      const settle = () => {
        this.#waiting.delete(id);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        settle();
        reject(signal.reason instanceof Error ? signal.reason : new Error('the operation was cancelled'));
      };
      const timer = setTimeout(() => {
        settle();
        reject(new ChallengeTimeoutError(registry, this.#timeoutSeconds));
      }, this.#timeoutSeconds * 1000);
      this.#waiting.set(id, {
        registry,
        resolve: (value) => {
          settle();
          resolve(value);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    return { id, answer };
  }

  /** False when no challenge waits under `id` (answered already, timed out, or never asked). */
  answer(id: string, answer: ClientAnswer): boolean {
    const waiter = this.#waiting.get(id);
    waiter?.resolve(answer);
    return waiter !== undefined;
  }

  decline(id: string, reason: string): boolean {
    const waiter = this.#waiting.get(id);
    waiter?.reject(new ChallengeDeclinedError(waiter.registry, reason));
    return waiter !== undefined;
  }
}
