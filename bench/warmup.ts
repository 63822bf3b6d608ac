// A daemon's first pull also pays for V8 compiling the pull path and the heap growing to its working size, once per
// process life. A tiny pull from a no-auth registry before the measured one keeps that out of the measurement
// (reported on its own), without leaving anything of the measured image or registry in the daemon.
import { buildImage } from '../test/rig/fixtures.ts';
import { pushImage } from '../test/rig/skopeo.ts';
import { pullOk } from './engine.ts';

const REPO = 'bench/warmup';
const TAG = '1';

export interface WarmupImage {
  image: string;
  tag: string;
}

/** Pushes a one-layer 1 MiB image to `registryHost` (a no-auth registry). */
export async function pushWarmupImage(registryHost: string): Promise<WarmupImage> {
  const built = await buildImage({ layers: [1024 * 1024], seed: 3 }, { tag: TAG });
  await pushImage({ layoutDir: built.layoutDir, tag: TAG, dest: `${registryHost}/${REPO}:${TAG}` });
  return { image: `${registryHost}/${REPO}`, tag: TAG };
}

export function warmUp(socket: string, warmup: WarmupImage): Promise<void> {
  return pullOk(socket, warmup.image, warmup.tag);
}
