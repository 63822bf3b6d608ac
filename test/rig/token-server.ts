// A token server for the rig's registries, following the distribution token spec (GET with optional Basic auth)
// and its OAuth2 spec (POST, grant_type password / refresh_token), with the behaviours clients must cope with:
// partial grants (never an error), refresh-token rotation with reuse detection, short-lived tokens, and
// responses carrying only `token` or only `access_token`. It is also an OAuth authorization server with RFC 8414
// metadata at /.well-known/oauth-authorization-server and the device authorization grant (RFC 8628) at
// /device/code, whose pending logins a test approves or denies through `device` (device-codes.ts).
//
// The token is a JWT the registry 2.8 accepts: signed ES256/RS256, `x5c` and/or libtrust `kid` header, `iss` =
// issuer, `aud` = service as a string, `exp` always set, `access: [{type,name,actions}]`.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { SignJWT } from 'jose';
import { type DeviceCodeInfo, DeviceCodes, type DevicePoll } from './device-codes.ts';
import { trackService, trackTempDir } from './processes.ts';
import { RefreshTokenStore } from './refresh-tokens.ts';
import { createSigningMaterial, type SigningAlg } from './token-keys.ts';
import { type Access, defaultPolicy, formatScope, grant, type Policy, parseScopes } from './token-scope.ts';

export type { Access, Policy } from './token-scope.ts';
export { defaultPolicy } from './token-scope.ts';

/** Which fields carry the JWT in a token response. */
export type ResponseShape = 'both' | 'token-only' | 'access-token-only';
/** How the JWS header names the signing key. */
export type KeyIdMode = 'x5c' | 'kid' | 'x5c+kid';

export interface TokenServerOptions {
  /** `service` the registry is configured with; the JWT `aud`. Default 'dockhand-rig-registry'. */
  service?: string;
  /** JWT `iss`. Default 'dockhand-rig-token-issuer'. */
  issuer?: string;
  /** user → password. Default { testuser: 'testpass' }. */
  users?: Record<string, string>;
  policy?: Policy;
  /** Refresh-token rotation with reuse detection. Default true. */
  rotation?: boolean;
  /** `expires_in` of responses (seconds). Default 300. */
  expiresIn?: number;
  /**
   * Real validity of minted tokens at the registry, in seconds. The registry allows 60 s of leeway on `exp`, so
   * the JWT gets exp = now - 60 + lifetime. Default: exp = now + expiresIn.
   */
  tokenLifetimeSeconds?: number;
  alg?: SigningAlg;
  keyId?: KeyIdMode;
  responseShape?: ResponseShape;
  /** Seconds between device-code polls, as told to clients (`interval`). Default 5. */
  deviceInterval?: number;
  /** Lifetime of a device code in seconds. Default 600. */
  deviceExpiresIn?: number;
}

/** The test hook of the device authorization grant: what a user would do at the verification page. */
export interface DeviceLogins {
  /** Logins waiting for the user, oldest first. */
  pending(): DeviceCodeInfo[];
  /** Resolves with the first pending login (polling every 20 ms), for a test that approves what a CLI printed. */
  nextPending(timeoutMs?: number): Promise<DeviceCodeInfo>;
  approve(userCode: string, user?: string): void;
  deny(userCode: string): void;
  /** Makes the code expire now: its next poll answers expired_token. */
  expire(userCode: string): void;
  /** The next `count` polls of pending codes answer slow_down. */
  slowDown(count: number): void;
  /** Every poll of the token endpoint with a device code, in order. */
  polls(): DevicePoll[];
  setInterval(seconds: number): void;
}

export interface TokenLogEntry {
  time: number;
  method: string;
  /** Which realm path was used: '/token' or '/alt/token'. */
  path: string;
  /** Query parameters, with any secret-looking value redacted. */
  query: Record<string, string[]>;
  grantType: 'password' | 'refresh_token' | 'device_code' | undefined;
  /** The authenticated user (Basic, password grant or refresh token owner); undefined when anonymous. */
  user: string | undefined;
  basicAuth: boolean;
  clientId: string | undefined;
  service: string | undefined;
  offline: boolean;
  scopesAsked: string[];
  scopesGranted: string[];
  status: number;
  error: string | undefined;
  refreshTokenIssued: boolean;
}

export interface TokenServerCounters {
  requests: number;
  getRequests: number;
  postRequests: number;
  /** refresh_token grants asked for (successful or not). */
  refreshes: number;
  reuseDetections: number;
  issuedRefreshTokens: number;
  issuedAccessTokens: number;
}

export interface MintOptions {
  user?: string;
  access: Access[];
  /** Real validity in seconds, leeway included (see tokenLifetimeSeconds). Default: expiresIn from now. */
  lifetimeSeconds?: number;
  /** Override or add claims, e.g. { aud: ['x'] } to build a token the registry must refuse. */
  claims?: Record<string, unknown>;
}

export interface TokenServer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The main token endpoint, http://127.0.0.1:PORT/token. */
  realm: string;
  /** Same endpoint at another path (for realm-switch scenarios), http://127.0.0.1:PORT/alt/token. */
  altRealm: string;
  service: string;
  issuer: string;
  /** PEM bundle for the registry's `auth.token.rootcertbundle`. */
  certBundlePath: string;
  port: number;
  log(): TokenLogEntry[];
  counters(): TokenServerCounters;
  resetLog(): void;
  isRefreshTokenValid(token: string): boolean;
  setRotation(on: boolean): void;
  setExpiresIn(seconds: number): void;
  setTokenLifetime(seconds: number | undefined): void;
  setResponseShape(shape: ResponseShape): void;
  setPolicy(policy: Policy): void;
  device: DeviceLogins;
  /** Signs a token directly, bypassing the endpoint (no counters, no log). */
  mintToken(options: MintOptions): Promise<string>;
  stop(): Promise<void>;
}

interface TokenRequest {
  user: string | undefined;
  scopes: Access[];
  offline: boolean;
  /** A refresh token to hand out instead of minting a login one (rotation), or null for none. */
  refreshToken: string | null | undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly code: string,
  ) {
    super(code);
  }
}

const SECRET_KEYS = new Set([
  'password',
  'refresh_token',
  'access_token',
  'token',
  'client_secret',
  'device_code',
]);
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function redacted(params: URLSearchParams): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const key of new Set(params.keys())) {
    out[key] = SECRET_KEYS.has(key) ? ['<redacted>'] : params.getAll(key);
  }
  return out;
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const badCredentials = () =>
  new HttpError(
    401,
    {
      errors: [
        {
          code: 'UNAUTHORIZED',
          message: 'access to the requested resource is not authorized',
          detail: 'incorrect username or password',
        },
      ],
      details: 'incorrect username or password',
    },
    'bad_credentials',
  );

export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const service = options.service ?? 'dockhand-rig-registry';
  const issuer = options.issuer ?? 'dockhand-rig-token-issuer';
  const users = options.users ?? { testuser: 'testpass' };
  let policy = options.policy ?? defaultPolicy;
  let expiresIn = options.expiresIn ?? 300;
  let lifetime = options.tokenLifetimeSeconds;
  let shape = options.responseShape ?? 'both';
  const keyIdMode = options.keyId ?? 'x5c';
  const refreshTokens = new RefreshTokenStore(options.rotation ?? true);
  const deviceCodes = new DeviceCodes(options.deviceInterval ?? 5, options.deviceExpiresIn ?? 600);

  const dir = await mkdtemp(join(tmpdir(), 'dockhand-rig-token-'));
  const untrackDir = trackTempDir(dir);
  const material = await createSigningMaterial(dir, options.alg ?? 'ES256', issuer);
  const certBundlePath = join(dir, 'bundle.pem');
  await writeFile(certBundlePath, material.certPem);

  let entries: TokenLogEntry[] = [];
  const zero = (): TokenServerCounters => ({
    requests: 0,
    getRequests: 0,
    postRequests: 0,
    refreshes: 0,
    reuseDetections: 0,
    issuedRefreshTokens: 0,
    issuedAccessTokens: 0,
  });
  let counters = zero();
  // The store counts for its whole life; counters() reports the part since the last resetLog().
  let baseIssued = 0;
  let baseReuse = 0;

  async function sign(
    user: string | undefined,
    access: Access[],
    realLifetime: number | undefined,
    extra = {},
  ) {
    const now = Math.floor(Date.now() / 1000);
    const exp = realLifetime === undefined ? now + expiresIn : now - 60 + realLifetime;
    const header: Record<string, unknown> = { alg: material.alg, typ: 'JWT' };
    if (keyIdMode !== 'kid') header['x5c'] = [material.x5c];
    if (keyIdMode !== 'x5c') header['kid'] = material.libtrustKid;
    const claims: Record<string, unknown> = {
      iss: issuer,
      aud: service,
      exp,
      nbf: now,
      iat: now,
      jti: randomBytes(12).toString('base64url'),
      access,
      ...(user === undefined ? {} : { sub: user }),
      ...extra,
    };
    return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(material.privateKey);
  }

  async function answer(request: TokenRequest, oauth: boolean) {
    const granted = grant(request.scopes, request.user, policy);
    const jwt = await sign(request.user, granted, lifetime);
    counters.issuedAccessTokens++;
    const body: Record<string, unknown> = {};
    if (shape !== 'access-token-only') body['token'] = jwt;
    if (shape !== 'token-only') body['access_token'] = jwt;
    body['expires_in'] = expiresIn;
    body['issued_at'] = new Date().toISOString();
    if (oauth) body['scope'] = granted.map(formatScope).join(' ');
    let refreshToken = request.refreshToken ?? undefined;
    if (request.refreshToken === undefined && request.offline && request.user !== undefined) {
      refreshToken = refreshTokens.issueForLogin(request.user);
    }
    if (refreshToken !== undefined) body['refresh_token'] = refreshToken;
    return { body, granted, refreshTokenIssued: refreshToken !== undefined };
  }

  function checkPassword(user: string, password: string): void {
    if (!Object.hasOwn(users, user) || users[user] !== password) throw badCredentials();
  }

  async function handle(req: FastifyRequest, reply: FastifyReply, method: 'GET' | 'POST') {
    counters.requests++;
    if (method === 'GET') counters.getRequests++;
    else counters.postRequests++;
    const query = new URL(req.url, 'http://rig').searchParams;
    const form = method === 'POST' && req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
    const params = method === 'GET' ? query : form;
    const entry: TokenLogEntry = {
      time: Date.now(),
      method,
      path: req.routeOptions.url ?? req.url,
      query: redacted(query),
      grantType: undefined,
      user: undefined,
      basicAuth: /^basic\s/i.test(req.headers.authorization ?? ''),
      clientId: params.get('client_id') ?? undefined,
      service: params.get('service') ?? undefined,
      offline: false,
      scopesAsked: [],
      scopesGranted: [],
      status: 200,
      error: undefined,
      refreshTokenIssued: false,
    };
    entries.push(entry);
    try {
      const scopes = parseScopes(params.getAll('scope'));
      entry.scopesAsked = scopes.map(formatScope);
      if (entry.service !== undefined && entry.service !== service) {
        throw new HttpError(
          400,
          { error: 'invalid_request', error_description: `unknown service ${entry.service}` },
          'invalid_request',
        );
      }
      let request: TokenRequest;
      if (method === 'GET') {
        entry.offline = params.get('offline_token') === 'true';
        const basic = parseBasic(req.headers.authorization);
        if (entry.basicAuth && !basic) throw badCredentials();
        if (basic) {
          entry.user = basic.user;
          checkPassword(basic.user, basic.password);
        }
        request = { user: basic?.user, scopes, offline: entry.offline, refreshToken: undefined };
      } else {
        request = postRequest(form, scopes, entry);
      }
      const result = await answer(request, method === 'POST');
      entry.scopesGranted = result.granted.map(formatScope);
      entry.refreshTokenIssued = result.refreshTokenIssued;
      return reply.code(200).header('cache-control', 'no-store').send(result.body);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      entry.status = error.status;
      entry.error = error.code;
      if (error.status === 401) reply.header('www-authenticate', 'Basic realm="dockhand-rig-token"');
      return reply.code(error.status).send(error.body);
    } finally {
      counters.reuseDetections = refreshTokens.reuseDetections - baseReuse;
      counters.issuedRefreshTokens = refreshTokens.issued - baseIssued;
    }
  }

  function postRequest(form: URLSearchParams, scopes: Access[], entry: TokenLogEntry): TokenRequest {
    const grantType = form.get('grant_type');
    const required = (name: string) => {
      const value = form.get(name);
      if (value === null || value === '') {
        throw new HttpError(
          400,
          { error: 'invalid_request', error_description: `missing ${name}` },
          'invalid_request',
        );
      }
      return value;
    };
    if (grantType === 'password') {
      entry.grantType = 'password';
      entry.offline = form.get('access_type') === 'offline';
      const user = required('username');
      entry.user = user;
      checkPassword(user, required('password'));
      return { user, scopes, offline: entry.offline, refreshToken: undefined };
    }
    if (grantType === DEVICE_CODE_GRANT) {
      entry.grantType = 'device_code';
      const outcome = deviceCodes.poll(required('device_code'));
      if (!outcome.ok) {
        throw new HttpError(400, { error: outcome.error }, outcome.error);
      }
      entry.user = outcome.user;
      entry.offline = true;
      return { user: outcome.user, scopes, offline: true, refreshToken: undefined };
    }
    if (grantType === 'refresh_token') {
      entry.grantType = 'refresh_token';
      counters.refreshes++;
      const outcome = refreshTokens.use(required('refresh_token'));
      if (!outcome.ok) {
        throw new HttpError(
          400,
          { error: 'invalid_grant', error_description: `refresh token ${outcome.reason}` },
          `invalid_grant:${outcome.reason}`,
        );
      }
      entry.user = outcome.user;
      entry.offline = true;
      return { user: outcome.user, scopes, offline: true, refreshToken: outcome.next ?? null };
    }
    throw new HttpError(
      400,
      { error: 'unsupported_grant_type', error_description: `grant_type ${grantType ?? '(missing)'}` },
      'unsupported_grant_type',
    );
  }

  const app = Fastify({ logger: false });
  let url = '';
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
  for (const path of ['/token', '/alt/token']) {
    app.get(path, (req, reply) => handle(req, reply, 'GET'));
    app.post(path, (req, reply) => handle(req, reply, 'POST'));
  }
  app.get('/.well-known/oauth-authorization-server', (_req, reply) =>
    reply.send({
      issuer: url,
      token_endpoint: `${url}/token`,
      device_authorization_endpoint: `${url}/device/code`,
      grant_types_supported: ['password', 'refresh_token', DEVICE_CODE_GRANT],
      response_types_supported: [],
    }),
  );
  app.post('/device/code', (req, reply) => {
    const form = req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
    const clientId = form.get('client_id');
    if (!clientId) return reply.code(400).send({ error: 'invalid_client' });
    const { deviceCode, userCode } = deviceCodes.issue(clientId);
    return reply.header('cache-control', 'no-store').send({
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: `${url}/device`,
      verification_uri_complete: `${url}/device?user_code=${userCode}`,
      expires_in: deviceCodes.expiresIn,
      interval: deviceCodes.interval,
    });
  });
  app.get('/device', (_req, reply) =>
    reply
      .type('text/plain')
      .send('Dockhand test rig: a test approves or denies device logins through its hook.\n'),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('token server: no address');
  url = `http://127.0.0.1:${address.port}`;

  return {
    url,
    realm: `${url}/token`,
    altRealm: `${url}/alt/token`,
    service,
    issuer,
    certBundlePath,
    port: address.port,
    log: () => entries.map((e) => ({ ...e })),
    counters: () => ({ ...counters }),
    resetLog() {
      entries = [];
      counters = zero();
      baseIssued = refreshTokens.issued;
      baseReuse = refreshTokens.reuseDetections;
    },
    isRefreshTokenValid: (token) => refreshTokens.isValid(token),
    setRotation(on) {
      refreshTokens.rotation = on;
    },
    setExpiresIn(seconds) {
      expiresIn = seconds;
    },
    setTokenLifetime(seconds) {
      lifetime = seconds;
    },
    setResponseShape(next) {
      shape = next;
    },
    setPolicy(next) {
      policy = next;
    },
    device: {
      pending: () => deviceCodes.pending(),
      async nextPending(timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const first = deviceCodes.pending()[0];
          if (first !== undefined) return first;
          if (Date.now() > deadline) throw new Error('token server: no device login started in time');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
      approve: (userCode, user = Object.keys(users)[0] ?? 'testuser') => deviceCodes.approve(userCode, user),
      deny: (userCode) => deviceCodes.deny(userCode),
      expire: (userCode) => deviceCodes.expire(userCode),
      slowDown: (count) => deviceCodes.slowDown(count),
      polls: () => deviceCodes.polls(),
      setInterval(seconds) {
        deviceCodes.interval = seconds;
      },
    },
    mintToken: (mint) => sign(mint.user, mint.access, mint.lifetimeSeconds, mint.claims),
    stop: trackService(async () => {
      await app.close();
      await rm(dir, { recursive: true, force: true });
      untrackDir();
    }),
  };
}
