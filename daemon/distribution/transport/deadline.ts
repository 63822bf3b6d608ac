// One overall deadline per request, retries and their waits included, until the answer's headers arrive. A body
// is then governed by the idle timeout and the minimum transfer rate, so a large blob is not cut for being large.

import { RegistryTimeoutError } from '../errors.ts';
import type { Part } from './round-trip.ts';

export function deadline(ms: number): Part {
  return (next) => async (exchange) => {
    const timer = new AbortController();
    const timeout = setTimeout(
      () => timer.abort(new RegistryTimeoutError(exchange.method, exchange.url, ms)),
      ms,
    );
    const signal = exchange.signal ? AbortSignal.any([exchange.signal, timer.signal]) : timer.signal;
    try {
      return await next({ ...exchange, signal });
    } catch (err) {
      if (timer.signal.aborted && !exchange.signal?.aborted) throw timer.signal.reason;
      throw err;
    } finally {
      clearTimeout(timeout);
    }
  };
}
