// A token-auth registry to browse: the standard images plus small repositories `browse/r00`, `browse/r01`, … (20 by
// default), behind a passthrough front (to count requests), with a token server that knows a full user and a
// limited one.

import { buildImage } from '../rig/fixtures.ts';
import { type Front, startFront } from '../rig/front.ts';
import { type Registry, startRegistry } from '../rig/registry.ts';
import { type SeededImages, seedImages } from '../rig/seed.ts';
import { pushImage } from '../rig/skopeo.ts';
import { defaultPolicy, type Policy, startTokenServer, type TokenServer } from '../rig/token-server.ts';

export const FULL_USER = { username: 'testuser', password: 'testpass' };
/** May pull `browse/*` and nothing else: no catalog. */
export const LIMITED_USER = { username: 'limited', password: 'limitedpass' };

const limitedPolicy: Policy = (user, name, type) => {
  if (user !== LIMITED_USER.username) return defaultPolicy(user, name, type);
  return type === 'repository' && name.startsWith('browse/') ? ['pull'] : [];
};

export interface BrowseRegistry {
  tokenServer: TokenServer;
  registry: Registry;
  /** The front's host: what clients browse. */
  host: string;
  front: Front;
  images: SeededImages;
  /** The `browse/rNN` repositories, each with tag `1`. */
  browseRepositories: string[];
  /** Every repository the registry holds, in the catalog's (lexical) order. */
  allRepositories: string[];
  stop(): Promise<void>;
}

export async function startBrowseRegistry(browseCount = 20): Promise<BrowseRegistry> {
  const tokenServer = await startTokenServer({
    users: { [FULL_USER.username]: FULL_USER.password, [LIMITED_USER.username]: LIMITED_USER.password },
    policy: limitedPolicy,
  });
  const registry = await startRegistry({ auth: 'token', tokenServer });
  const images = await seedImages(registry.host, FULL_USER);
  const tiny = await buildImage({ layers: [1024], seed: 17 }, { tag: '1' });
  const browseRepositories = Array.from(
    { length: browseCount },
    (_, i) => `browse/r${String(i).padStart(2, '0')}`,
  );
  // Two pushes at a time: the machine has two cores.
  for (let i = 0; i < browseRepositories.length; i += 2) {
    await Promise.all(
      browseRepositories.slice(i, i + 2).map((repository) =>
        pushImage({
          layoutDir: tiny.layoutDir,
          tag: tiny.tag,
          dest: `${registry.host}/${repository}:1`,
          creds: FULL_USER,
        }),
      ),
    );
  }
  const front = await startFront({ target: registry.url });
  const allRepositories = [...browseRepositories, ...Object.values(images).map((i) => i.repository)].sort();
  return {
    tokenServer,
    registry,
    host: front.host,
    front,
    images,
    browseRepositories,
    allRepositories,
    async stop() {
      await front.stop();
      await registry.stop();
      await tokenServer.stop();
    },
  };
}
