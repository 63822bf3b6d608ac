// The stores every registry operation reads, built from the global options: Dockhand's OAuth token store
// ($DOCKHAND_TOKEN_STORE, else $XDG_CONFIG_HOME/dockhand/tokens.json, else ~/.config/dockhand/tokens.json) and
// docker's config.json (--config / DOCKER_CONFIG, with its credential helpers), chained per challenged host.

import os from 'node:os';
import path from 'node:path';
import {
  type AuthConfig,
  type ChallengeHandler,
  createCredentialChainHandler,
  createDockerConfigStore,
  createFileTokenStore,
  InvalidGrantError,
  type TokenStore,
} from '../client/index.ts';
import { LoginAgainError } from './failures.ts';
import type { GlobalOptions } from './global-options.ts';

/** The OAuth client id the CLI presents to token servers. */
export const CLI_CLIENT_ID = 'dockhand-cli';

export interface CliStores {
  tokenStore: TokenStore;
  tokenStorePath: string;
  dockerConfig: TokenStore;
}

export function tokenStorePath(env: NodeJS.ProcessEnv): string {
  if (env['DOCKHAND_TOKEN_STORE']) return env['DOCKHAND_TOKEN_STORE'];
  const configHome = env['XDG_CONFIG_HOME'] || path.join(env['HOME'] ?? os.homedir(), '.config');
  return path.join(configHome, 'dockhand', 'tokens.json');
}

export function openStores(globals: GlobalOptions, env: NodeJS.ProcessEnv): CliStores {
  const file = tokenStorePath(env);
  return {
    tokenStore: createFileTokenStore(file),
    tokenStorePath: file,
    dockerConfig: createDockerConfigStore({
      env,
      ...(globals.configDir === undefined ? {} : { configDir: globals.configDir }),
    }),
  };
}

/**
 * The credential chain, with a revoked refresh token turned into "log in again" for the host that needs it.
 * With `debug`, each challenge the daemon forwarded is shown with the kind of answer (never the credential).
 */
export function cliChallengeHandler(stores: CliStores, debug?: NodeJS.WritableStream): ChallengeHandler {
  const chain = createCredentialChainHandler({
    tokenStore: stores.tokenStore,
    dockerConfig: stores.dockerConfig,
    clientId: CLI_CLIENT_ID,
  });
  return async (challenge) => {
    debug?.write(
      `[debug] ${challenge.registry} challenged${challenge.repository ? ` for ${challenge.repository}` : ''} ` +
        `(attempt ${challenge.attempt}), forwarded by the daemon:\n${challenge.lines.map((l) => `  WWW-Authenticate: ${l}\n`).join('')}`,
    );
    try {
      const answer = await chain(challenge);
      debug?.write(`[debug] answered with ${describeAnswer(answer)}\n`);
      return answer;
    } catch (err) {
      if (err instanceof InvalidGrantError) throw new LoginAgainError(challenge.registry, { cause: err });
      throw err;
    }
  };
}

function describeAnswer(answer: AuthConfig | undefined): string {
  if (answer === undefined) return 'nothing: no credentials for this host';
  if (answer.registrytoken) return `a bearer token for ${answer.serveraddress ?? 'the host'}, fetched here`;
  if (answer.username) return `the username and password stored for ${answer.serveraddress ?? 'the host'}`;
  return 'credentials';
}
