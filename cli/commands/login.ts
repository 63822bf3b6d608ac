// `dockhand login [-u USER] [-p PASS | --password-stdin] [--oauth [--oauth-issuer URL]] [SERVER]`.
// How the registry authenticates is found by asking it directly (GET /v2/), not through the daemon: see the
// README. With --oauth the refresh token goes to Dockhand's token store (device authorization grant when the
// authorization server offers it, else the password grant); otherwise the credentials go where docker keeps
// them (config.json, or the credential helper it names), an identity token when the registry issues one.

import { type DevicePrompt, login, oauthLogin } from '../../client/index.ts';
import { type CommandIO, defineCommand } from '../command.ts';
import { CLI_CLIENT_ID, openStores } from '../credentials.ts';
import { CliError, UsageError } from '../failures.ts';
import { promptLine, promptPassword, readAllStdin } from '../prompt.ts';

export default defineCommand({
  usage: 'dockhand login [OPTIONS] [SERVER]',
  description: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.',
  options: {
    username: { type: 'string', short: 'u' },
    password: { type: 'string', short: 'p' },
    'password-stdin': { type: 'boolean' },
    oauth: { type: 'boolean' },
    'oauth-issuer': { type: 'string' },
  },
  optionHelp: [
    '  -u, --username string      Username',
    '  -p, --password string      Password',
    '      --password-stdin       Take the password from stdin',
    "      --oauth                Log in with OAuth: the device authorization grant when the registry's",
    '                             authorization server offers it, else the password grant; keeps only a',
    "                             refresh token, in Dockhand's token store",
    "      --oauth-issuer string  Authorization server to ask for metadata (default: the token realm's origin)",
  ],
  args: { min: 0, max: 1 },
  async run(context, flags, [server = 'docker.io']) {
    const { io } = context;
    if (flags.password !== undefined) {
      io.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      if (flags['password-stdin'])
        throw new UsageError('--password and --password-stdin are mutually exclusive');
    }
    if (flags['password-stdin'] && flags.username === undefined) {
      throw new UsageError('Must provide --username with --password-stdin');
    }
    const stores = openStores(context.globals, io.env);
    const credentials = () =>
      readCredentials(io, flags.username, flags.password, flags['password-stdin'] ?? false);
    if (flags.oauth) {
      const result = await oauthLogin({
        registry: server,
        clientId: CLI_CLIENT_ID,
        store: stores.tokenStore,
        onPrompt: (prompt) => showPrompt(io, prompt),
        signal: context.signal,
        ...(flags['oauth-issuer'] ? { issuer: parseIssuer(flags['oauth-issuer']) } : {}),
        ...(flags.username !== undefined || flags['password-stdin'] ? { passwordFallback: credentials } : {}),
      });
      io.stdout.write(
        `Refresh token stored for ${result.registry} in ${stores.tokenStorePath}\nLogin Succeeded\n`,
      );
      return undefined;
    }
    const { username, password } = await credentials();
    await login({
      registry: server,
      username,
      password,
      store: stores.dockerConfig,
      clientId: CLI_CLIENT_ID,
      signal: context.signal,
    });
    io.stdout.write('Login Succeeded\n');
    return undefined;
  },
});

function showPrompt(io: CommandIO, prompt: DevicePrompt): void {
  const minutes = Math.round(prompt.expiresIn / 60);
  io.stdout.write(
    `To log in, open this page in a browser:\n\n    ${prompt.verificationUri}\n\nand enter the code:\n\n    ${prompt.userCode}\n\n` +
      (prompt.verificationUriComplete ? `(or open ${prompt.verificationUriComplete})\n` : '') +
      `The code expires in ${minutes > 0 ? `${minutes} minutes` : `${prompt.expiresIn} seconds`}. Waiting for approval...\n`,
  );
}

function parseIssuer(value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new UsageError(`--oauth-issuer: "${value}" is not a URL`);
  }
}

async function readCredentials(
  io: CommandIO,
  username: string | undefined,
  password: string | undefined,
  passwordStdin: boolean,
): Promise<{ username: string; password: string }> {
  if (passwordStdin) return { username: username ?? '', password: await readAllStdin(io) };
  if (username !== undefined && password !== undefined) return { username, password };
  if (!io.stdin.isTTY) {
    throw new CliError('Cannot perform an interactive login from a non TTY device');
  }
  const user = username ?? (await promptLine(io, 'Username: '));
  if (user === '') throw new CliError('Username is required');
  const secret = password ?? (await promptPassword(io, 'Password: '));
  if (secret === '') throw new CliError('Password is required');
  return { username: user, password: secret };
}
