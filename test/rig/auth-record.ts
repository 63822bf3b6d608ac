import { createHash } from 'node:crypto';

/**
 * What a recorder keeps of an Authorization header: never the secret, only its presence, its scheme and a sha256
 * of the whole value (to assert "the same credential was sent twice" or "this exact token was forwarded").
 */
export interface AuthSeen {
  present: boolean;
  /** As sent, e.g. 'Bearer', 'Basic'. */
  scheme: string | undefined;
  /** sha256 hex of the full header value. */
  sha256: string | undefined;
}

export function authSeen(header: string | undefined): AuthSeen {
  if (header === undefined) return { present: false, scheme: undefined, sha256: undefined };
  return {
    present: true,
    scheme: header.split(' ', 1)[0],
    sha256: createHash('sha256').update(header).digest('hex'),
  };
}

/** The sha256 a recorder stores for `Authorization: <value>`, for equality assertions in tests. */
export function authHash(headerValue: string): string {
  return createHash('sha256').update(headerValue).digest('hex');
}
