// The one interface every token store implements, keyed by registry host (`host[:port]`, Docker Hub as `docker.io`).

export interface TokenEntry {
  username?: string;
  /** Kept by stores that hold passwords (docker config.json `auth`), for Basic challenges and token GETs. */
  password?: string;
  /** OAuth refresh token (docker's identity token). */
  refreshToken?: string;
  /** The newest access token, so another process needing the same one does not spend a refresh on it. */
  accessToken?: string;
  /** What accessToken was issued for: registry, realm, service and scope, as the OAuth handler keys them. */
  accessTokenFor?: string;
  /** When accessToken expires, in milliseconds since the epoch. */
  expiresAt?: number;
}

export interface TokenStore {
  get(host: string): Promise<TokenEntry | undefined>;
  set(host: string, entry: TokenEntry): Promise<void>;
  delete(host: string): Promise<void>;
  /**
   * Runs `fn` holding the store's lock for `host`: within one process and, for stores backed by a file, across
   * processes. `get`/`set`/`delete` called inside `fn` belong to the locked section. An OAuth refresh runs under
   * it, and must re-read the entry inside, since another holder may have rotated the refresh token meanwhile.
   */
  withLock<T>(host: string, fn: () => Promise<T>): Promise<T>;
}
