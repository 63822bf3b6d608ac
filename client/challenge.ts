// The clientAuth retry loop shared by pull, push, login and distributionInspect:
// 1. send the request (with `clientAuth=1` and whatever credentials are known so far);
// 2. the daemon answers 401 (before any stream byte) or ends the stream with aux.authChallenge (after);
// 3. the challenge handler is asked for credentials for that registry;
// 4. its answer is merged into the credentials and the request is sent again;
// 5. until the request succeeds, the handler declines, or `maxRounds` answers did not satisfy the registry.

import type { AuthConfig } from '../api-spec/index.ts';
import { type Challenge, parseWwwAuthenticate, untilAborted } from '../protocol/index.ts';
import { AuthChallengeError } from './errors.ts';
import { RetryAuth } from './retry-auth.ts';

export const DEFAULT_MAX_ROUNDS = 3;

/** What a challenge handler is asked to answer. */
export interface AuthChallenge {
  /** The registry that challenged, `host[:port]` as the daemon reached it (a mirror, or the origin). */
  registry: string;
  repository: string;
  /** The registry's WWW-Authenticate lines, byte for byte. */
  lines: string[];
  /** The same lines parsed (RFC 7235: several challenges per line, several lines). */
  challenges: Challenge[];
  /** 1 for the first challenge of this operation, 2 for the one after the first answer, … */
  attempt: number;
  /** The operation's signal, for handlers that can stop early; the loop stops waiting for them when it aborts. */
  signal?: AbortSignal;
}

/**
 * Answers a challenge with credentials for `challenge.registry` (a bearer `registrytoken`, or `username` and
 * `password` for a Basic challenge; `serveraddress` defaults to the challenged registry), or `undefined` to give up.
 */
export type ChallengeHandler = (
  challenge: AuthChallenge,
) => Promise<AuthConfig | undefined> | AuthConfig | undefined;

/** What the built-in handlers return: a ChallengeHandler that always answers with a promise. */
export type AsyncChallengeHandler = (challenge: AuthChallenge) => Promise<AuthConfig | undefined>;

/** Raised by one attempt when the daemon relayed a registry challenge; only the loop below sees it. */
export class RegistryChallenged extends Error {
  override readonly name = 'RegistryChallenged';
  readonly registry: string;
  readonly repository: string;
  readonly lines: string[];

  constructor(
    registry: string,
    repository: string,
    lines: string[],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.registry = registry;
    this.repository = repository;
    this.lines = lines;
  }
}

export interface ChallengeRetryOptions<T> {
  auth: AuthConfig | undefined;
  handler: ChallengeHandler | undefined;
  maxRounds?: number;
  signal?: AbortSignal;
  /** Sends the request once with these credentials; throws RegistryChallenged when challenged. */
  attempt: (auth: AuthConfig | undefined) => Promise<T>;
}

export async function withChallengeRetry<T>(options: ChallengeRetryOptions<T>): Promise<T> {
  const maxRounds = options.maxRounds ?? DEFAULT_MAX_ROUNDS;
  const credentials = new RetryAuth(options.auth);
  for (let attempt = 1; ; attempt++) {
    let challenged: RegistryChallenged;
    try {
      return await options.attempt(credentials.current());
    } catch (err) {
      if (!(err instanceof RegistryChallenged)) throw err;
      challenged = err;
    }
    const challenge: AuthChallenge = {
      registry: challenged.registry,
      repository: challenged.repository,
      lines: challenged.lines,
      challenges: parseWwwAuthenticate(challenged.lines),
      attempt,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const cause = { cause: challenged };
    if (options.handler === undefined) {
      throw new AuthChallengeError(
        'no-handler',
        challenge,
        'the registry asked for credentials and no challengeHandler was given',
        cause,
      );
    }
    if (attempt > maxRounds) {
      throw new AuthChallengeError(
        'max-rounds',
        challenge,
        `the registry still asks for credentials after ${maxRounds} answered challenges`,
        cause,
      );
    }
    const answer = await untilAborted(Promise.resolve(options.handler(challenge)), options.signal);
    if (answer === undefined) {
      throw new AuthChallengeError('declined', challenge, 'the challengeHandler gave no credentials', cause);
    }
    credentials.add(challenge.registry, answer);
  }
}
