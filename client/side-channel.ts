// The client half of authChannel: a challenge the daemon puts in a pull or push stream (with an id) is answered on
// POST /auth/challenges/{id} while the stream goes on being read. A refusal on this side (the handler declined or
// threw, a partial grant, no progress) is sent as a decline with its reason, and becomes the operation's error.
import {
  AUTH_HEADER,
  type AuthChallengeInfo,
  type ChallengeAnswerBody,
  challengeAnswerPath,
  encodeAuthConfig,
} from '../api-spec/index.ts';
import type { ChallengeSession } from './challenge.ts';
import { EngineApiError } from './errors.ts';
import { expectSuccess } from './responses.ts';
import type { Transport } from './transport.ts';

export interface SideChannelOptions {
  /** Tell the daemon when an answer expires, so it asks again before (default true). */
  renewBeforeExpiry: boolean;
  now?: () => number;
}

export class SideChannel {
  readonly #transport: Transport;
  readonly #session: ChallengeSession;
  readonly #o: SideChannelOptions;
  readonly #inFlight = new Set<Promise<void>>();
  #failure: Error | undefined;

  constructor(transport: Transport, session: ChallengeSession, options: SideChannelOptions) {
    this.#transport = transport;
    this.#session = session;
    this.#o = options;
  }

  /** Starts answering `info` (it carries an id); the stream is read on meanwhile. */
  challenged(info: AuthChallengeInfo & { id: string }): void {
    const task = this.#answer(info).finally(() => this.#inFlight.delete(task));
    this.#inFlight.add(task);
  }

  /** The reason this side ended the operation, if it did: it explains the daemon's error line better. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Resolves once every answer (or decline) has been delivered. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  async #answer(info: AuthChallengeInfo & { id: string }): Promise<void> {
    let body: ChallengeAnswerBody;
    let headers: Record<string, string> | undefined;
    try {
      const {
        expiresAt,
        grantedScope: _granted,
        ...auth
      } = await this.#session.answer({
        registry: info.registry,
        repository: info.repository,
        lines: info.challenges,
        ...(info.renewal ? { renewal: true } : {}),
      });
      headers = {
        [AUTH_HEADER]: encodeAuthConfig({ ...auth, serveraddress: auth.serveraddress || info.registry }),
      };
      const remaining = expiresAt === undefined ? 0 : (expiresAt - (this.#o.now ?? Date.now)()) / 1000;
      body = this.#o.renewBeforeExpiry && remaining > 0 ? { expiresIn: remaining } : {};
    } catch (err) {
      this.#failure ??= err instanceof Error ? err : new Error(String(err));
      body = { decline: this.#failure.message };
      headers = undefined;
    }
    // A 404: the daemon stopped waiting (deadline, operation over), and its stream says why.
    await this.#transport
      .request({
        method: 'POST',
        path: challengeAnswerPath(info.id),
        body: JSON.stringify(body),
        ...(headers ? { headers } : {}),
      })
      .then(expectSuccess)
      .catch((err: unknown) => {
        if (!(err instanceof EngineApiError && err.status === 404)) this.#failure ??= err as Error;
      });
  }
}
