// The CLI's own failures, worded for the user. Apart from errors.ts, which knows every SDK error: a command that
// only throws these (the daemon's) does not load the SDK.
import { EXIT } from './exit-codes.ts';

/** The command line itself is wrong: the message, then the command's usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the CLI already worded for the user (a refused login, a declined prompt). */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.failed, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** A stored refresh token the token server no longer accepts: only a new login helps. */
export class LoginAgainError extends Error {
  override readonly name = 'LoginAgainError';
  readonly registry: string;

  constructor(registry: string, options?: ErrorOptions) {
    super(`refresh token for ${registry} revoked or already used`, options);
    this.registry = registry;
  }
}
