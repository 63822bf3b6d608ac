// POST /auth: check credentials against the registry's /v2/ as dockerd does, and hand back the identity token
// (the OAuth refresh token) when the token server issued one. In clientAuth mode the challenge goes to the client.

import type { AuthResponse } from '../../api-spec/types.ts';
import { TokenRequestError } from '../../protocol/index.ts';
import { DaemonError, UnauthorizedError } from '../errors.ts';
import { RegistryResponseError, RegistryUnauthorizedError } from '../registry/errors.ts';
import type { AuthMode } from './image-service.ts';
import type { RegistryAccess } from './registry-access.ts';

export async function login(
  access: RegistryAccess,
  mode: AuthMode,
  signal: AbortSignal,
): Promise<AuthResponse> {
  const address = mode.auth.serveraddress?.replace(/^[a-z]+:\/\//i, '').split('/')[0] || 'docker.io';
  const domain = address === 'index.docker.io' ? 'docker.io' : address;
  let identityToken: string | undefined;
  const repo = await access.repository(domain, '', mode, {
    signal,
    mirrors: false,
    login: { onRefreshToken: (token) => (identityToken = token) },
  });
  try {
    await repo.checkLogin();
  } catch (err) {
    if (err instanceof DaemonError) throw err;
    // Worded as dockerd 20.10 words them: the token server's refusal as the failed GET, a Basic 401 as its status.
    if (err instanceof TokenRequestError) {
      throw new UnauthorizedError(`Get "${repo.origin.origin}/v2/": ${err.message}`);
    }
    if (err instanceof RegistryUnauthorizedError) {
      throw new UnauthorizedError(
        `login attempt to ${repo.origin.origin}/v2/ failed with status: 401 Unauthorized`,
      );
    }
    if (err instanceof RegistryResponseError) {
      throw new UnauthorizedError(
        `login attempt to ${repo.origin.origin}/v2/ failed with status: ${err.status}`,
      );
    }
    throw err;
  }
  return identityToken
    ? { Status: 'Login Succeeded', IdentityToken: identityToken }
    : { Status: 'Login Succeeded' };
}
