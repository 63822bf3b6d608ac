// The clientAuth retry loop shared by pull, push, login and distributionInspect:
// 1. send the request (with `clientAuth=1` and whatever credentials are known so far);
// 2. the daemon answers 401 (before any stream byte) or ends the stream with aux.authChallenge (after);
// 3. the challenge handler is asked for credentials for that registry (ChallengeSession);
// 4. its answer is merged into the credentials and the request is sent again;
// 5. until the request succeeds, the handler declines, the registry refuses what the token grants, or `maxRounds`
//    answers in a row were followed by no progress at all.

import type { AuthConfig, JSONMessage } from '../api-spec/index.ts';
// The protocol's modules one by one: its index also loads the token client (undici), which no daemon call needs.
import { untilAborted } from '../protocol/abort.ts';
import { parseScopeList, type Scope, scopeCovers, scopeKey } from '../protocol/scope.ts';
import { grantedScopes } from '../protocol/token-grant.ts';
import { bearerParams, type Challenge, parseWwwAuthenticate } from '../protocol/www-authenticate.ts';
import { AuthChallengeError, PartialGrantError } from './errors.ts';
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
  /**
   * The daemon asks ahead of the last answer's expiry (nothing was refused): answer with a fresh token, not a
   * cached one.
   */
  renewal?: boolean;
}

/** What a handler answers: credentials, plus what it knows about the token it obtained. */
export interface ChallengeAnswer extends AuthConfig {
  /** When the answered token stops working (ms since the epoch): the operation renews ahead of it. */
  expiresAt?: number;
  /** The token server's `scope` (what it granted), to name a partial grant when the token is not a JWT. */
  grantedScope?: string;
}

/**
 * Answers a challenge with credentials for `challenge.registry` (a bearer `registrytoken`, or `username` and
 * `password` for a Basic challenge; `serveraddress` defaults to the challenged registry), or `undefined` to give up.
 */
export type ChallengeHandler = (
  challenge: AuthChallenge,
) => Promise<ChallengeAnswer | undefined> | ChallengeAnswer | undefined;

/** What the built-in handlers return: a ChallengeHandler that always answers with a promise. */
export type AsyncChallengeHandler = (challenge: AuthChallenge) => Promise<ChallengeAnswer | undefined>;

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

export interface ChallengeSessionOptions {
  auth: AuthConfig | undefined;
  handler: ChallengeHandler | undefined;
  maxRounds?: number;
  signal?: AbortSignal;
  /** Names the operation in a partial-grant refusal ("push to small needs …"). */
  action?: 'pull' | 'push';
  /** Tell the daemon how long each answered token lasts (registrytokenttl), so it can ask ahead of expiry. */
  reportExpiry?: boolean;
}

/** A challenge as the daemon relayed it (HTTP 401, stream end, or in-stream with the side channel). */
export interface RelayedChallenge {
  registry: string;
  repository: string;
  lines: string[];
  renewal?: boolean;
}

/**
 * The challenges of one operation: asks the handler, keeps the credentials for a retry, counts the rounds that made
 * no progress, and refuses at once when the registry challenges again for what the last answer's token could not
 * grant (a partial grant: asking again would get the same token).
 */
export class ChallengeSession {
  readonly credentials: RetryAuth;
  readonly #o: ChallengeSessionOptions;
  readonly #maxRounds: number;
  #attempt = 0;
  #roundsWithoutProgress = 0;
  #progressed = false;
  /** Per registry: the scope the last answer was for, and what its token grants (when it says). */
  readonly #lastAnswer = new Map<string, { scope: string; granted: Scope[] | undefined }>();
  /** The most bytes reported per layer id. */
  readonly #bytes = new Map<string, number>();

  constructor(options: ChallengeSessionOptions) {
    this.#o = options;
    this.#maxRounds = options.maxRounds ?? DEFAULT_MAX_ROUNDS;
    this.credentials = new RetryAuth(options.auth, options.reportExpiry ?? false);
  }

  /**
   * Watches the operation's messages for progress: a layer's bytes beyond the most seen for it before. A retry
   * repeating what an earlier attempt already reported is no progress.
   */
  observe(message: JSONMessage): void {
    const current = message.progressDetail?.current;
    if (message.id === undefined || typeof current !== 'number') return;
    if (current > (this.#bytes.get(message.id) ?? 0)) {
      this.#bytes.set(message.id, current);
      this.#progressed = true;
    }
  }

  async answer(relayed: RelayedChallenge, cause?: Error): Promise<ChallengeAnswer> {
    const challenge: AuthChallenge = {
      registry: relayed.registry,
      repository: relayed.repository,
      lines: relayed.lines,
      challenges: parseWwwAuthenticate(relayed.lines),
      attempt: ++this.#attempt,
      ...(this.#o.signal ? { signal: this.#o.signal } : {}),
      ...(relayed.renewal ? { renewal: true } : {}),
    };
    const options = cause ? { cause } : undefined;
    const handler = this.#o.handler;
    if (handler === undefined) {
      throw new AuthChallengeError(
        'no-handler',
        challenge,
        'the registry asked for credentials and no challengeHandler was given',
        options,
      );
    }
    const asked = bearerParams(challenge.challenges)?.scope ?? [];
    if (!relayed.renewal) {
      this.#refusePartialGrant(challenge, asked, options);
      this.#roundsWithoutProgress = this.#progressed ? 1 : this.#roundsWithoutProgress + 1;
      if (this.#roundsWithoutProgress > this.#maxRounds) {
        throw new AuthChallengeError(
          'max-rounds',
          challenge,
          `the registry still asks for credentials after ${this.#maxRounds} answered challenges without progress`,
          options,
        );
      }
    }
    this.#progressed = false;
    const answer = await untilAborted(Promise.resolve(handler(challenge)), this.#o.signal);
    if (answer === undefined) {
      throw new AuthChallengeError(
        'declined',
        challenge,
        'the challengeHandler gave no credentials',
        options,
      );
    }
    this.credentials.add(challenge.registry, answer);
    const token = answer.registrytokens?.[challenge.registry] ?? answer.registrytoken;
    this.#lastAnswer.set(challenge.registry, {
      scope: scopeKey(asked),
      granted: grantedScopes(token, answer.grantedScope),
    });
    return answer;
  }

  #refusePartialGrant(challenge: AuthChallenge, asked: string[], options: ErrorOptions | undefined): void {
    const last = this.#lastAnswer.get(challenge.registry);
    if (asked.length === 0 || last?.granted === undefined || last.scope !== scopeKey(asked)) return;
    if (scopeCovers(last.granted, asked)) return;
    const wanted = asked.flatMap((s) => parseScopeList(s).scopes);
    const name = wanted[0]?.name ?? challenge.repository;
    const grantedActions = last.granted.filter((g) => g.name === name).flatMap((g) => g.actions);
    throw new PartialGrantError(
      challenge,
      this.#o.action,
      name,
      wanted.filter((w) => w.name === name).flatMap((w) => w.actions),
      grantedActions,
      options,
    );
  }
}

export interface ChallengeRetryOptions<T> {
  session: ChallengeSession;
  /** Sends the request once with these credentials; throws RegistryChallenged when challenged. */
  attempt: (auth: AuthConfig | undefined) => Promise<T>;
}

export async function withChallengeRetry<T>(options: ChallengeRetryOptions<T>): Promise<T> {
  const { session } = options;
  for (;;) {
    try {
      return await options.attempt(session.credentials.current());
    } catch (err) {
      if (!(err instanceof RegistryChallenged)) throw err;
      await session.answer(err, err);
    }
  }
}
