// POST /auth: check credentials against the registry's /v2/ as dockerd does, and hand back the identity token
// (the OAuth refresh token) when the token server issued one. In clientAuth mode the challenge goes to the client.

import type { AuthResponse } from '../../api-spec/types.ts';
import { registryHostKey, TokenRequestError } from '../../protocol/index.ts';
import type { AuthMode } from './auth/auth-mode.ts';
import { LoginRefusedError, RegistryResponseError, RegistryUnauthorizedError } from './errors.ts';
import type { RegistryAccess } from './registry-access.ts';

export async function login(
  access: RegistryAccess,
  mode: AuthMode,
  signal: AbortSignal,
): Promise<AuthResponse> {
  const address = mode.auth.serveraddress?.trim();
  const domain = address ? registryHostKey(address) : 'docker.io';
  let identityToken: string | undefined;
  const repo = await access.repository(domain, '', mode, {
    signal,
    mirrors: false,
    login: { onRefreshToken: (token) => (identityToken = token) },
  });
  try {
    await repo.checkLogin();
  } catch (err) {
    // Worded as dockerd 20.10 words them: the token server's refusal as the failed GET, a Basic 401 as its status.
    if (err instanceof TokenRequestError) {
      throw new LoginRefusedError(`Get "${repo.origin.origin}/v2/": ${err.message}`, { cause: err });
    }
    if (err instanceof RegistryUnauthorizedError) {
      throw new LoginRefusedError(
        `login attempt to ${repo.origin.origin}/v2/ failed with status: 401 Unauthorized`,
        { cause: err },
      );
    }
    if (err instanceof RegistryResponseError) {
      throw new LoginRefusedError(
        `login attempt to ${repo.origin.origin}/v2/ failed with status: ${err.status}`,
        { cause: err },
      );
    }
    throw err;
  }
  return identityToken
    ? { Status: 'Login Succeeded', IdentityToken: identityToken }
    : { Status: 'Login Succeeded' };
}
