// EngineClient: one typed method per daemon route. Long operations (pull, push) resolve when they have finished
// and reject on any error in their stream; registry challenges go through the challenge handler when one is given.
// The challenge loop, the stream readers and the side channel load with the first call that needs them, so that a
// short-lived caller (`dockhand version`, `dockhand images`) does not pay for them at start-up.

// The api-spec modules one by one, not its index: each module loaded is start-up time for a short-lived caller.
import { AUTH_CHANNEL_PARAM } from '../api-spec/auth-challenge.ts';
import { AUTH_HEADER, type AuthConfig, encodeAuthConfig } from '../api-spec/auth-config.ts';
import { formatFilters } from '../api-spec/filters.ts';
import type { JSONMessage } from '../api-spec/json-message.ts';
import type {
  AuthResponse,
  DistributionInspect,
  EventMessage,
  ImageDeleteResponseItem,
  ImageInspect,
  ImagePruneResponse,
  ImageSummary,
  SystemInfo,
  SystemVersion,
} from '../api-spec/types.ts';
import { InvalidReferenceError } from '../protocol/errors.ts';
import { parseReference, type Reference } from '../protocol/reference.ts';
import { type AuthOptions, readAuthOption } from './auth-option.ts';
import type { ChallengeHandler, ChallengeSession } from './challenge.ts';
import type { DaemonResponse } from './daemon-connection.ts';
import { InvalidStreamMessageError } from './errors.ts';
import { type PullResult, type PushResult, summarizePull, summarizePush } from './operation-summary.ts';
import type { PingInfo } from './ping.ts';
import { discardBody, expectSuccess, readEngineApiError, readJson } from './responses.ts';
import { namePath, Transport, type TransportOptions, type TransportRequest } from './transport.ts';

export type EngineClientOptions = TransportOptions;

export type ImageFilterOption = Record<string, string[]>;

/** Options shared by every operation that may meet a registry challenge. */
export interface ChallengeOptions extends AuthOptions {
  /** Answers registry challenges; setting it puts the request in clientAuth mode (the daemon negotiates nothing). */
  challengeHandler?: ChallengeHandler;
  /** How many challenges in a row, with no progress between them, the handler may answer (default 3). */
  maxRounds?: number;
  signal?: AbortSignal;
  /**
   * Pull and push: answer challenges raised mid-stream on the daemon's side channel, so the operation goes on where
   * it was (default true). Against a daemon without it, or when false, the stream ends and a retry resumes it.
   */
  sideChannel?: boolean;
  /** With the side channel: tell the daemon when a handler's token expires, so it asks ahead of it (default true). */
  renewBeforeExpiry?: boolean;
}

export interface PullOptions extends ChallengeOptions {
  /** `os[/arch[/variant]]`, e.g. `linux/arm64/v8`. */
  platform?: string;
  /** Every progress message, in order (not the final error or challenge message, which ends the pull). */
  onProgress?: (message: JSONMessage) => void;
}

export interface PushOptions extends ChallengeOptions {
  /** The tag to push; default the reference's tag, else `latest`. */
  tag?: string;
  /** Push every local tag of the repository (`docker push --all-tags`); the reference must have no tag. */
  allTags?: boolean;
  onProgress?: (message: JSONMessage) => void;
}

/** The challenge options without credentials: login takes its AuthConfig as an argument. */
export type LoginOptions = Omit<ChallengeOptions, keyof AuthOptions>;

export interface ListImagesOptions {
  all?: boolean;
  digests?: boolean;
  filters?: ImageFilterOption;
  signal?: AbortSignal;
}

export interface RemoveImageOptions {
  force?: boolean;
  noprune?: boolean;
  signal?: AbortSignal;
}

export interface EventsOptions {
  /** Unix seconds (or a moby timestamp string). */
  since?: number | string;
  until?: number | string;
  filters?: ImageFilterOption;
  signal?: AbortSignal;
}

export class EngineClient {
  readonly #transport: Transport;

  constructor(options: EngineClientOptions = {}) {
    this.#transport = new Transport(options);
  }

  /** The API version in use (negotiated on first use unless pinned). */
  apiVersion(signal?: AbortSignal): Promise<string> {
    return this.#transport.apiVersion(signal);
  }

  ping(signal?: AbortSignal): Promise<PingInfo> {
    return this.#transport.ping(signal);
  }

  async version(signal?: AbortSignal): Promise<SystemVersion> {
    return readJson(await this.#transport.request({ method: 'GET', path: '/version', signal }));
  }

  async info(signal?: AbortSignal): Promise<SystemInfo> {
    return readJson(await this.#transport.request({ method: 'GET', path: '/info', signal }));
  }

  /** Pulls `ref`; resolves once the daemon has finished, rejects with StreamError on any error in the stream. */
  pull(ref: string, options: PullOptions = {}): Promise<PullResult> {
    const reference = parseReference(ref);
    return this.#streamed('pull', options, summarizePull, (clientAuth) => ({
      path: '/images/create',
      query: {
        fromImage: reference.name,
        tag: reference.digest ?? reference.tag ?? 'latest',
        platform: options.platform,
        clientAuth,
      },
    }));
  }

  /** Pushes `name` (`repo[:tag]`); same completion and error semantics as pull. */
  push(name: string, options: PushOptions = {}): Promise<PushResult> {
    const reference = parseReference(name);
    if (reference.digest !== undefined) {
      throw new InvalidReferenceError(name, 'format', 'cannot push a digest reference');
    }
    if (options.allTags && (reference.tag !== undefined || options.tag !== undefined)) {
      throw new InvalidReferenceError(name, 'format', "tag can't be used with --all-tags/-a");
    }
    return this.#streamed('push', options, summarizePush, (clientAuth) => ({
      path: `/images/${namePath(reference.name)}/push`,
      query: { tag: options.allTags ? undefined : (options.tag ?? reference.tag ?? 'latest'), clientAuth },
    }));
  }

  /** A streamed operation (pull, push) under the challenge loop: it ends with the stream, or with its error. */
  #streamed<R extends object>(
    action: 'pull' | 'push',
    options: ChallengeOptions & { onProgress?: (message: JSONMessage) => void },
    summarize: (result: R, message: JSONMessage) => void,
    route: (clientAuth: string | undefined) => { path: string; query: Record<string, string | undefined> },
  ): Promise<R> {
    const useChannel = options.challengeHandler !== undefined && options.sideChannel !== false;
    const renewAhead = useChannel && options.renewBeforeExpiry !== false;
    return this.#challenged(
      options,
      readAuthOption(options),
      (auth, clientAuth) => {
        const { path, query } = route(clientAuth);
        return {
          method: 'POST',
          path,
          query: { ...query, [AUTH_CHANNEL_PARAM]: useChannel ? '1' : undefined },
          headers: authHeaders(auth),
        };
      },
      async (response, session) => {
        const [{ consumeMessages }, { SideChannel }] = await Promise.all([
          import('./message-stream.ts'),
          import('./side-channel.ts'),
        ]);
        const result = {} as R;
        const channel = useChannel
          ? new SideChannel(this.#transport, session, { renewBeforeExpiry: renewAhead })
          : undefined;
        try {
          await consumeMessages(
            response.body,
            (message) => {
              session.observe(message);
              summarize(result, message);
              options.onProgress?.(message);
            },
            channel && ((challenge) => channel.challenged(challenge)),
          );
        } catch (err) {
          await channel?.settled();
          throw channel?.failure ?? err;
        }
        await channel?.settled();
        return result;
      },
      { action, reportExpiry: renewAhead },
    );
  }

  /**
   * One daemon request under the challenge loop. With a handler the request asks for clientAuth (`'1'`), and each
   * challenge the daemon forwards is answered by the handler and the request sent again with its AuthConfig.
   */
  async #challenged<R>(
    options: LoginOptions,
    auth: AuthConfig | undefined,
    request: (
      auth: AuthConfig | undefined,
      clientAuth: string | undefined,
    ) => Omit<TransportRequest, 'signal'>,
    read: (response: DaemonResponse, session: ChallengeSession) => Promise<R>,
    streamed?: { action: 'pull' | 'push'; reportExpiry: boolean },
  ): Promise<R> {
    const { ChallengeSession, withChallengeRetry } = await import('./challenge.ts');
    const handler = options.challengeHandler;
    const session = new ChallengeSession({
      auth,
      handler,
      ...(options.maxRounds !== undefined ? { maxRounds: options.maxRounds } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...streamed,
    });
    return withChallengeRetry({
      session,
      attempt: async (current) => {
        const response = await this.#transport.request({
          ...request(current, handler ? '1' : undefined),
          signal: options.signal,
        });
        await throwUnlessOk(response);
        return read(response, session);
      },
    });
  }

  /** POST /auth (docker's checkAuth): validates credentials with the registry through the daemon. */
  login(auth: AuthConfig, options: LoginOptions = {}): Promise<AuthResponse> {
    return this.#challenged(
      options,
      auth,
      (current, clientAuth) => ({
        method: 'POST',
        path: '/auth',
        query: { clientAuth },
        body: JSON.stringify(current ?? {}),
      }),
      async (response) => {
        // moby documents a 204 without body next to the 200.
        if (response.statusCode === 204) {
          await discardBody(response.body);
          return { Status: 'Login Succeeded' };
        }
        return readJson<AuthResponse>(response);
      },
    );
  }

  /** GET /distribution/{ref}/json: the registry's descriptor and platforms for `ref`, without pulling. */
  distributionInspect(ref: string, options: ChallengeOptions = {}): Promise<DistributionInspect> {
    const reference = parseReference(ref);
    return this.#challenged(
      options,
      readAuthOption(options),
      (auth, clientAuth) => ({
        method: 'GET',
        path: `/distribution/${namePath(referenceString(reference))}/json`,
        query: { clientAuth },
        headers: authHeaders(auth),
      }),
      (response) => readJson<DistributionInspect>(response),
    );
  }

  async listImages(options: ListImagesOptions = {}): Promise<ImageSummary[]> {
    const response = await this.#transport.request({
      method: 'GET',
      path: '/images/json',
      query: {
        all: flag(options.all),
        digests: flag(options.digests),
        filters: options.filters ? formatFilters(options.filters) : undefined,
      },
      signal: options.signal,
    });
    return expectArray(await readJson<unknown>(response), 'GET /images/json') as ImageSummary[];
  }

  async inspectImage(name: string, signal?: AbortSignal): Promise<ImageInspect> {
    return readJson(
      await this.#transport.request({ method: 'GET', path: `/images/${namePath(name)}/json`, signal }),
    );
  }

  /** DELETE /images/{name}: the wire (and this result) is an array, unlike @types/dockerode's ImageRemoveInfo. */
  async removeImage(name: string, options: RemoveImageOptions = {}): Promise<ImageDeleteResponseItem[]> {
    const response = await this.#transport.request({
      method: 'DELETE',
      path: `/images/${namePath(name)}`,
      query: { force: flag(options.force), noprune: flag(options.noprune) },
      signal: options.signal,
    });
    return expectArray(await readJson<unknown>(response), 'DELETE /images') as ImageDeleteResponseItem[];
  }

  /** Tags `source` (a name or ID) as `target` (`repo[:tag]`, tag default `latest`), as `docker tag` does. */
  async tagImage(source: string, target: string, signal?: AbortSignal): Promise<void> {
    const reference = parseReference(target);
    if (reference.digest !== undefined) {
      throw new InvalidReferenceError(target, 'format', 'refusing to create a tag with a digest reference');
    }
    await expectSuccess(
      await this.#transport.request({
        method: 'POST',
        path: `/images/${namePath(source)}/tag`,
        query: { repo: reference.name, tag: reference.tag ?? 'latest' },
        signal,
      }),
    );
  }

  async prune(
    options: { filters?: ImageFilterOption; signal?: AbortSignal } = {},
  ): Promise<ImagePruneResponse> {
    const response = await this.#transport.request({
      method: 'POST',
      path: '/images/prune',
      query: { filters: options.filters ? formatFilters(options.filters) : undefined },
      signal: options.signal,
    });
    return readJson(response);
  }

  /** GET /events: past events (with `since`), then live ones until `until`, the signal, or the loop's end. */
  async *events(options: EventsOptions = {}): AsyncGenerator<EventMessage> {
    const response = await this.#transport.request({
      method: 'GET',
      path: '/events',
      query: {
        since: options.since?.toString(),
        until: options.until?.toString(),
        filters: options.filters ? formatFilters(options.filters) : undefined,
      },
      signal: options.signal,
    });
    await throwUnlessOk(response);
    const { readEvents } = await import('./event-stream.ts');
    yield* readEvents(response.body);
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}

function authHeaders(auth: AuthConfig | undefined): Record<string, string> | undefined {
  return auth === undefined ? undefined : { [AUTH_HEADER]: encodeAuthConfig(auth) };
}

function flag(value: boolean | undefined): string | undefined {
  return value ? '1' : undefined;
}

/** Throws the typed error of a non-2xx answer; a relayed registry challenge becomes RegistryChallenged. */
async function throwUnlessOk(response: DaemonResponse): Promise<void> {
  if (response.statusCode >= 200 && response.statusCode < 300) return;
  const { challengeFromHttpError } = await import('./daemon-challenge.ts');
  const error = await readEngineApiError(response);
  throw challengeFromHttpError(error) ?? error;
}

function referenceString(reference: Reference): string {
  if (reference.digest !== undefined) return `${reference.name}@${reference.digest}`;
  return `${reference.name}:${reference.tag ?? 'latest'}`;
}

function expectArray(value: unknown, route: string): unknown[] {
  if (!Array.isArray(value))
    throw new InvalidStreamMessageError(`${route} answered something other than an array`);
  return value;
}
