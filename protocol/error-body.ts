// The distribution API's error body, `{"errors":[{"code","message","detail"}]}`, from untrusted registry JSON.

/** Reads the distribution error body `{"errors":[{"code","message"}]}` into "code: message" text. */
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
