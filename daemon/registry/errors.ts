// Failures of a registry request, typed so the pull and push engines can word them as dockerd does.

/** The registry refused the request after authorization was tried (a second 401, or a 401 we cannot answer). */
export class RegistryUnauthorizedError extends Error {
  override readonly name = 'RegistryUnauthorizedError';
  constructor(
    readonly host: string,
    readonly repository: string,
    readonly lines: string[],
    message: string,
    /** The registry's error code in the last challenge, e.g. insufficient_scope. */
    readonly challengeError?: string,
  ) {
    super(message);
  }
}

/** A non-2xx answer that is not an auth failure. `code` is the registry's first error code (MANIFEST_UNKNOWN, …). */
export class RegistryResponseError extends Error {
  override readonly name = 'RegistryResponseError';
  constructor(
    readonly host: string,
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the distribution error body `{"errors":[{"code","message"}]}` into "code: message" text, capped. */
export function describeRegistryErrors(body: string): { code?: string; text?: string } {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = parsed.errors?.[0];
    if (!first) return {};
    const code = typeof first.code === 'string' ? first.code : undefined;
    const message = typeof first.message === 'string' ? first.message : undefined;
    return {
      ...(code !== undefined ? { code } : {}),
      text: [code?.toLowerCase().replace(/_/g, ' '), message].filter(Boolean).join(': '),
    };
  } catch {
    return {};
  }
}
