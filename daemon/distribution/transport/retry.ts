// The one retry layer: 408/429/5xx and connection errors (a reset, an idle timeout, a body below the minimum
// rate), with exponential backoff, the registry's Retry-After honoured (capped), and a bound. Requests are retried
// here when they can be replayed; a blob's body is retried by the blob fetch instead, which resumes where it
// stopped, so no request is retried by two layers. Each wait is reported so the progress stream can show
// "Retrying in N seconds" as dockerd does.

import { RegistryResponseError } from '../errors.ts';
import type { Part } from './round-trip.ts';

export interface RetryPolicy {
  /** Attempts after the first. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 4, baseDelayMs: 1000, maxDelayMs: 30_000 };

export interface RetryNotice {
  attempt: number;
  delayMs: number;
  reason: string;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'DOCKHAND_TRANSFER_TOO_SLOW',
  // The wire's (http1-wire.ts): a connection cut before the response ended, and its idle timeouts.
  'DOCKHAND_RESPONSE_CLOSED',
  'DOCKHAND_CONNECT_TIMEOUT',
  'DOCKHAND_HEADERS_TIMEOUT',
  'DOCKHAND_BODY_TIMEOUT',
]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

export function isRetryableError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  if (err instanceof RegistryResponseError) return isRetryableStatus(err.status);
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return true;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isRetryableError(cause);
}

/** Delay before retry number `attempt` (1-based): Retry-After when given (seconds or HTTP date), else exponential. */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfter?: string | string[]): number {
  const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  if (header !== undefined) {
    const seconds = Number(header);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), policy.maxDelayMs);
  }
  return Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `attempt` until it succeeds, fails for good, or the policy's bound is reached: for operations retried whole
 * outside the request chain (a token request, a blob resumed from disk). An error's `retryAfter`, when it has one,
 * sets the wait.
 */
export async function retryCall<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  worthRetrying: (err: unknown) => boolean,
  attempt: () => Promise<T>,
  onRetry?: (delayMs: number) => void,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (signal?.aborted || !worthRetrying(err) || n > policy.maxRetries) throw err;
      const delayMs = retryDelay(
        policy,
        n,
        err instanceof RegistryResponseError ? err.retryAfter : undefined,
      );
      onRetry?.(delayMs);
      await sleep(delayMs, signal);
    }
  }
}

/** Retries what may be replayed, as the policy says. */
export function retry(policy: RetryPolicy): Part {
  return (next) => async (exchange) => {
    const { request } = exchange;
    const replayable = request.replayable ?? (request.method === 'GET' || request.method === 'HEAD');
    for (let attempt = 1; ; attempt++) {
      let retryAfter: string | string[] | undefined;
      let reason: string;
      try {
        const response = await next(exchange);
        if (!replayable || !isRetryableStatus(response.statusCode) || attempt > policy.maxRetries)
          return response;
        retryAfter = response.headers['retry-after'];
        reason = `HTTP ${response.statusCode}`;
        await response.body.dump();
      } catch (err) {
        if (!replayable || !isRetryableError(err) || attempt > policy.maxRetries || exchange.signal?.aborted)
          throw err;
        reason = (err as Error).message;
      }
      const delayMs = retryDelay(policy, attempt, retryAfter);
      request.onRetry?.({ attempt, delayMs, reason });
      await sleep(delayMs, exchange.signal);
    }
  };
}
