// Turns a failure into one actionable line on stderr and an exit code. Errors are told apart by class and typed
// fields, never by their text; anything unknown is a bug and keeps its stack.

import {
  AuthChallengeError,
  CredentialHelperError,
  DaemonAddressError,
  DeviceLoginError,
  EngineApiError,
  InvalidAuthOptionError,
  InvalidGrantError,
  InvalidReferenceError,
  InvalidStoreFileError,
  LockTimeoutError,
  RealmRefusedError,
  RegistryLoginError,
  StreamError,
  TokenRequestError,
} from '../client/errors.ts';
import { EXIT } from './exit-codes.ts';
import { CliError, LoginAgainError, UsageError } from './failures.ts';

export interface Described {
  message: string;
  exitCode: number;
}

/** The line to print for `err` (without the "dockhand: " prefix) and the exit code. */
export function describeError(err: unknown, daemon: string): Described {
  const failed = (message: string): Described => ({ message, exitCode: EXIT.failed });
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof UsageError) return { message: err.message, exitCode: EXIT.usage };
  if (err instanceof LoginAgainError) {
    return failed(`${err.message}: log in again: dockhand login --oauth ${err.registry}`);
  }
  if (err instanceof InvalidGrantError) return failed(`${err.message}: dockhand login --oauth REGISTRY`);
  if (err instanceof AuthChallengeError) return failed(describeChallenge(err));
  if (err instanceof StreamError || err instanceof EngineApiError) {
    return failed(`Error response from daemon: ${err.message}`);
  }
  if (err instanceof DeviceLoginError) return failed(describeDeviceLogin(err));
  if (err instanceof RegistryLoginError) return failed(`login to ${err.registry} failed: ${err.message}`);
  if (err instanceof RealmRefusedError || err instanceof TokenRequestError) {
    return failed(`token server refused: ${err.message}`);
  }
  if (
    err instanceof InvalidReferenceError ||
    err instanceof DaemonAddressError ||
    err instanceof InvalidAuthOptionError ||
    err instanceof InvalidStoreFileError ||
    err instanceof CredentialHelperError ||
    err instanceof LockTimeoutError
  ) {
    return failed(err.message);
  }
  if (isConnectionError(err)) {
    return failed(
      `Cannot connect to the Dockhand daemon at ${daemon}. Is the daemon running? Start it with: npx dockhand daemon`,
    );
  }
  return failed(err instanceof Error ? err.message : String(err));
}

function describeChallenge(err: AuthChallengeError): string {
  const where = `${err.registry}${err.repository ? ` (${err.repository})` : ''}`;
  const basic = err.challenges.some((c) => c.scheme === 'basic');
  if (err.reason === 'declined' && basic) {
    return `${where} asks for a username and password and none is stored: dockhand login ${err.registry}`;
  }
  if (err.reason === 'max-rounds') {
    return `${where} refused the credentials given: check access, or log in again: dockhand login ${err.registry}`;
  }
  return `${where} asks for credentials this client cannot give (${err.lines.join(', ')}): dockhand login ${err.registry}`;
}

function describeDeviceLogin(err: DeviceLoginError): string {
  switch (err.reason) {
    case 'access_denied':
      return 'login denied: the request was refused at the verification page (access_denied)';
    case 'expired_token':
      return 'login timed out: the code expired before it was approved (expired_token); run dockhand login --oauth again';
    default:
      return `login failed: ${err.message}`;
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'UND_ERR_SOCKET']);

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECTION_CODES.has(code);
}
