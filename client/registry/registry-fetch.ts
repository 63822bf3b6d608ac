// One registry GET from the SDK, its auth answered on the client by the same challenge handlers pull and push use:
// 1. send it, with the Authorization that answered this fetcher's last challenge (the next page needs no 401);
// 2. a 401 carries the registry's WWW-Authenticate lines: the challengeHandler is asked for credentials;
// 3. its answer for this registry becomes the Authorization (Bearer token, or Basic), and the GET is sent again;
// 4. a second 401 is the registry's refusal and is returned as is: a fetcher never loops on a challenge;
// 5. redirects are followed by hand; Authorization goes only to the registry's own origin.

import { type Dispatcher, request } from 'undici';
import type { AuthConfig } from '../../api-spec/index.ts';
import { BodyTooLargeError, parseWwwAuthenticate, readLimited } from '../../protocol/index.ts';
import { registryHostKey } from '../../protocol/registry-host.ts';
import { type ChallengeHandler, ChallengeSession } from '../challenge.ts';
import { AuthChallengeError } from '../errors.ts';
import { RegistryResponseError } from './errors.ts';
import type { RegistryOrigin } from './origin.ts';

/** What every browsing call takes. */
export interface BrowseOptions {
  /** Answers the registry's challenges (createTokenChallengeHandler, createOAuthChallengeHandler, …). */
  challengeHandler?: ChallengeHandler;
  signal?: AbortSignal;
  /** For tests and proxies: the undici dispatcher requests go through. */
  dispatcher?: Dispatcher;
}

export interface RegistryGet {
  url: URL;
  /** The repository the request is about, `''` for the catalog: passed to the challenge handler. */
  repository: string;
  accept: string;
  /** The body is refused past this many bytes. */
  limit: number;
  /** Names the body in errors: `catalog page`, `manifest small:1`. */
  what: string;
}

export interface RegistryAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The URL that answered (after redirects): relative links resolve against it. */
  url: URL;
  /** True when a credential was sent with the request that got this answer. */
  authorized: boolean;
}

const MAX_REDIRECTS = 5;
// Error bodies are only read for the registry's error code.
const ERROR_BODY_LIMIT = 64 * 1024;

export class RegistryFetcher {
  readonly #registry: RegistryOrigin;
  readonly #options: BrowseOptions;
  readonly #session: ChallengeSession;
  #authorization: string | undefined;

  constructor(registry: RegistryOrigin, options: BrowseOptions) {
    this.#registry = registry;
    this.#options = options;
    this.#session = new ChallengeSession({
      auth: undefined,
      handler: options.challengeHandler,
      // Each request is answered at most once (a second 401 is returned as the refusal), so rounds cannot loop;
      // a long listing may meet several token expiries without being cut short.
      maxRounds: Number.POSITIVE_INFINITY,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async get(get: RegistryGet): Promise<RegistryAnswer> {
    let answered = false;
    for (;;) {
      const answer = await this.#send(get, this.#authorization);
      if (answer.status !== 401 || answered) return answer;
      const lines = headerLines(answer.headers['www-authenticate']);
      if (lines.length === 0) return answer;
      const relayed = { registry: this.#registry.host, repository: get.repository, lines };
      // The session numbers the answers: after a refused token the handler is told not to give it again.
      await this.#session.answer(relayed);
      this.#authorization = authorizationFor(this.#session.credentials.current(), this.#registry.host);
      if (this.#authorization === undefined) {
        throw new AuthChallengeError(
          'declined',
          { ...relayed, challenges: parseWwwAuthenticate(lines), attempt: 1 },
          'the challengeHandler gave no credentials for this registry',
        );
      }
      answered = true;
    }
  }

  async #send(get: RegistryGet, authorization: string | undefined): Promise<RegistryAnswer> {
    let url = get.url;
    for (let hop = 0; ; hop++) {
      // The credential answers this registry's challenge: it never leaves the registry's origin.
      const withCredential = authorization !== undefined && url.origin === this.#registry.origin;
      const response = await request(url, {
        method: 'GET',
        headers: { accept: get.accept, ...(withCredential ? { authorization } : {}) },
        ...(this.#options.signal ? { signal: this.#options.signal } : {}),
        ...(this.#options.dispatcher ? { dispatcher: this.#options.dispatcher } : {}),
      });
      const location = response.headers['location'];
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        await response.body.dump();
        url = this.#redirect(url, location, response.statusCode, hop);
        continue;
      }
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      const body = await this.#read(response, ok ? get.limit : ERROR_BODY_LIMIT, get.what);
      return {
        status: response.statusCode,
        headers: response.headers,
        body,
        url,
        authorized: withCredential,
      };
    }
  }

  #redirect(from: URL, location: string, status: number, hop: number): URL {
    let target: URL | undefined;
    try {
      target = new URL(location, from);
    } catch {
      target = undefined;
    }
    if (
      target === undefined ||
      (target.protocol !== 'https:' && target.protocol !== 'http:') ||
      hop >= MAX_REDIRECTS
    ) {
      throw new RegistryResponseError(
        this.#registry.host,
        status,
        'redirect',
        `registry ${this.#registry.host} redirected ${from.pathname} ${target ? 'too often or off http(s)' : 'to an invalid URL'}`,
      );
    }
    return target;
  }

  async #read(response: Dispatcher.ResponseData, limit: number, what: string): Promise<Buffer> {
    try {
      if (Number(response.headers['content-length']) > limit) throw new BodyTooLargeError(what, limit);
      return await readLimited(response.body, limit, what);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      response.body.destroy();
      throw new RegistryResponseError(
        this.#registry.host,
        response.statusCode,
        'too-large',
        `registry ${this.#registry.host}: ${error.message}`,
        { cause: error },
      );
    }
  }
}

/** The Authorization the answers so far give for `host`: its bearer token, else its username and password. */
function authorizationFor(answer: AuthConfig | undefined, host: string): string | undefined {
  if (answer === undefined) return undefined;
  const key = registryHostKey(host);
  const forHost = answer.serveraddress === undefined || registryHostKey(answer.serveraddress) === key;
  const perHost = Object.entries(answer.registrytokens ?? {}).find(([h]) => registryHostKey(h) === key)?.[1];
  const token = perHost ?? (forHost ? answer.registrytoken : undefined);
  if (token) return `Bearer ${token}`;
  if (!forHost) return undefined;
  if (answer.username !== undefined && answer.password !== undefined) {
    return `Basic ${Buffer.from(`${answer.username}:${answer.password}`).toString('base64')}`;
  }
  return answer.auth ? `Basic ${answer.auth}` : undefined;
}

function headerLines(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
