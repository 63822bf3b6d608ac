import {
  createFileTokenStore,
  createOAuthChallengeHandler,
  EngineClient,
  InvalidGrantError,
  login,
} from 'dockhand';

const registry = process.env.REGISTRY ?? 'registry.example.com';
const image = process.env.IMAGE ?? `${registry}/team/app:1.2`;
const store = createFileTokenStore(`${process.env.HOME}/.config/dockhand/tokens.json`); // 0600, atomic, lock file

// Once: the OAuth password grant with access_type=offline stores the refresh token (like `docker login`).
const password = process.env.REGISTRY_PASSWORD;
if (password) {
  await login({ registry, username: process.env.REGISTRY_USER ?? 'me', password, store, clientId: 'my-cli' });
}

const engine = new EngineClient(); // DOCKER_HOST (unix:// or tcp://), else the daemon's default socket
const challengeHandler = createOAuthChallengeHandler({ store, clientId: 'my-cli' });
try {
  const { digest } = await engine.pull(image, {
    challengeHandler, // the daemon forwards each registry challenge here; the refreshed token answers it
    onProgress: (m) => console.log(m.id ?? '', m.status),
  });
  console.log(`pulled ${image} ${digest}`);
} catch (err) {
  if (!(err instanceof InvalidGrantError)) throw err;
  console.error(err.message); // "refresh token revoked or already used: log in again"
  process.exitCode = 1;
} finally {
  await engine.close();
}
