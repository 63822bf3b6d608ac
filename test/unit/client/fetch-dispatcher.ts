// msw intercepts globalThis.fetch, not undici's own sockets; the SDK's token requests go through undici. This
// dispatcher hands each undici request to fetch, so msw handlers answer what the SDK sends, unchanged.

import { Dispatcher } from 'undici';

interface LegacyHandler {
  onConnect?(abort: (err?: Error) => void): void;
  onHeaders?(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: Buffer[] | null): void;
  onError?(err: Error): void;
}

export class FetchDispatcher extends Dispatcher {
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const h = handler as LegacyHandler;
    const controller = new AbortController();
    h.onConnect?.((err) => controller.abort(err));
    void (async () => {
      try {
        const url = new URL(options.path, String(options.origin));
        const response = await fetch(url, {
          method: options.method,
          headers: toHeaders(options.headers),
          body: (options.body as string | null | undefined) ?? null,
          redirect: 'manual',
          signal: controller.signal,
        });
        const raw: Buffer[] = [];
        for (const [name, value] of response.headers) raw.push(Buffer.from(name), Buffer.from(value));
        h.onHeaders?.(response.status, raw, () => {}, response.statusText);
        const body = Buffer.from(await response.arrayBuffer());
        if (body.length > 0) h.onData?.(body);
        h.onComplete?.([]);
      } catch (err) {
        h.onError?.(err as Error);
      }
    })();
    return true;
  }

  override async close(): Promise<void> {}
  override async destroy(): Promise<void> {}
}

function toHeaders(headers: Dispatcher.DispatchOptions['headers']): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  if (Array.isArray(headers)) {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < headers.length; i += 2) out[String(headers[i])] = String(headers[i + 1]);
    return out;
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}
