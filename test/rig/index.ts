// The test rig: real registries (Debian docker-registry 2.8.2), a token server, fronts that imitate registries in
// the wild, and OCI image fixtures pushed with skopeo. Usable from vitest and from plain scripts (bench).
//
// Asking for a registry in a given mode:
//   const ts = await startTokenServer();                                   // rotation on, testuser:testpass
//   const reg = await startRegistry({ auth: 'token', tokenServer: ts });   // or { auth: 'none' },
//                                                                          //    { auth: 'htpasswd', users: { u: 'p' } }
//   const front = await startFront({ target: reg.url, mode: 'v2-open' });  // modes: passthrough, v2-open, wrong-scope,
//                                  // pull-push-scope, no-service, no-www-authenticate, forbidden
//   await front.setFaults([{ type: 'reset', afterBytes: 1000, nth: 1 }]);  // faults hit blob GETs by default
//   const images = await seedImages(reg.host, { username: 'testuser', password: 'testpass' });
//   ... point the client at front.host (or reg.host), assert on front.requests() and ts.log() ...
//   afterAll: await front.stop(); await reg.stop(); await ts.stop();       // or stopAll()
//
// Or all at once: `const rig = await startRig({ fronts: true, seed: true })` gives rig.token, rig.htpasswd,
// rig.none (each { registry, front, host, url, images }), rig.tokenServer and rig.stop().
import { type Front, startFront } from './front.ts';
import { type Registry, startRegistry } from './registry.ts';
import { type SeededImages, seedImages } from './seed.ts';
import type { Creds } from './skopeo.ts';
import { startTokenServer, type TokenServer, type TokenServerOptions } from './token-server.ts';

export { type AuthSeen, authHash } from './auth-record.ts';
export * from './fixtures.ts';
export * from './front.ts';
export { FRONT_MODES } from './front-modes.ts';
export * from './packages.ts';
export { freePort } from './ports.ts';
export { isAlive, stopAll, sweepStaleTempDirs, trackedPids } from './processes.ts';
export * from './registry.ts';
export * from './seed.ts';
export * from './skopeo.ts';
export * from './token-server.ts';

export interface RigOptions {
  /** Which registries to start. Default all three. */
  registries?: ReadonlyArray<'token' | 'htpasswd' | 'none'>;
  /** Put a passthrough front before each registry. Default false. */
  fronts?: boolean;
  /** Push the standard images (see seed.ts) into each registry, directly (not through the front). */
  seed?: boolean;
  /** Users of the token server and the htpasswd registry. Default { testuser: 'testpass' }. */
  users?: Record<string, string>;
  tokenServer?: Omit<TokenServerOptions, 'users'>;
}

export interface RigEndpoint {
  registry: Registry;
  front: Front | undefined;
  /** Where clients should go: the front when there is one, else the registry. */
  host: string;
  url: string;
  /** Seeded images, refs on `host`. Empty unless seed was asked. */
  images: Partial<SeededImages>;
}

export interface Rig {
  tokenServer: TokenServer;
  /** Credentials valid on every registry (the first user). */
  creds: Creds;
  token: RigEndpoint;
  htpasswd: RigEndpoint;
  none: RigEndpoint;
  stop(): Promise<void>;
}

/** Starts a token server (rotation on) and the asked registries, optionally fronted and seeded. */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const users = options.users ?? { testuser: 'testpass' };
  const [username, password] = Object.entries(users)[0] ?? [];
  if (username === undefined || password === undefined) throw new Error('startRig: users must not be empty');
  const creds = { username, password };
  const wanted = new Set(options.registries ?? ['token', 'htpasswd', 'none']);
  const started: { stop(): Promise<void> }[] = [];

  try {
    const tokenServer = await startTokenServer({ rotation: true, ...options.tokenServer, users });
    started.push(tokenServer);
    const endpoint = async (kind: 'token' | 'htpasswd' | 'none'): Promise<RigEndpoint | undefined> => {
      if (!wanted.has(kind)) return undefined;
      const registry = await startRegistry(
        kind === 'token'
          ? { auth: 'token', tokenServer }
          : kind === 'htpasswd'
            ? { auth: 'htpasswd', users }
            : { auth: 'none' },
      );
      started.push(registry);
      const front = options.fronts ? await startFront({ target: registry.url }) : undefined;
      if (front) started.push(front);
      const host = front?.host ?? registry.host;
      return { registry, front, host, url: `http://${host}`, images: {} };
    };
    const [token, htpasswd, none] = await Promise.all([
      endpoint('token'),
      endpoint('htpasswd'),
      endpoint('none'),
    ]);
    // One registry at a time: seeding already runs two skopeo processes, as many as there are cores.
    for (const [target, auth] of [
      [token, creds],
      [htpasswd, creds],
      [none, undefined],
    ] as const) {
      if (!options.seed || !target) continue;
      const seeded = await seedImages(target.registry.host, auth);
      target.images = Object.fromEntries(
        Object.entries(seeded).map(([name, image]) => [
          name,
          { ...image, ref: `${target.host}/${image.repository}:${image.tag}` },
        ]),
      );
    }
    const missing = (name: string) => () => {
      throw new Error(`startRig: registry "${name}" was not asked for`);
    };
    return {
      tokenServer,
      creds,
      token: token ?? absent('token', missing),
      htpasswd: htpasswd ?? absent('htpasswd', missing),
      none: none ?? absent('none', missing),
      stop: () => stopReversed(started),
    };
  } catch (error) {
    await stopReversed(started);
    throw error;
  }
}

async function stopReversed(started: { stop(): Promise<void> }[]): Promise<void> {
  for (const item of [...started].reverse()) await item.stop();
}

/** A placeholder whose every property access says which registry was not started. */
function absent(name: string, missing: (name: string) => () => never): RigEndpoint {
  return new Proxy({} as RigEndpoint, { get: missing(name) });
}

export * from './tls.ts';
