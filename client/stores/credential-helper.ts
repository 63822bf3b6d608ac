// The docker-credential-helpers protocol: `docker-credential-<name> <action>`, the input on stdin, the answer
// (or an error message) on stdout, a non-zero exit on failure.

import { spawn } from 'node:child_process';
import { CredentialHelperError } from '../errors.ts';

export interface HelperCredentials {
  ServerURL: string;
  Username: string;
  Secret: string;
}

/** The username a helper stores an identity (refresh) token under; the Secret is then the token. */
export const IDENTITY_TOKEN_USERNAME = '<token>';

const NOT_FOUND = 'credentials not found in native keychain';
const OUTPUT_LIMIT = 1024 * 1024;
const TIMEOUT_MS = 30_000;

export interface HelperOptions {
  env?: NodeJS.ProcessEnv;
}

export function helperBinary(name: string): string {
  // The suffix comes from config.json: never let it name a path or smuggle arguments.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new CredentialHelperError(name, 'resolve', `invalid credential helper name "${name.slice(0, 64)}"`);
  }
  return `docker-credential-${name}`;
}

/** The stored credentials for serverURL, or undefined when the helper has none. */
export async function helperGet(
  name: string,
  serverURL: string,
  options: HelperOptions = {},
): Promise<HelperCredentials | undefined> {
  const result = await runHelper(name, 'get', serverURL, options);
  if (result.code !== 0) {
    if (result.stdout.trim() === NOT_FOUND) return undefined;
    throw helperFailure(name, 'get', 'error getting credentials', result);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    throw new CredentialHelperError(name, 'get', `docker-credential-${name} get: the answer is not JSON`);
  }
  const value = parsed as Partial<HelperCredentials> | null;
  if (typeof value?.Username !== 'string' || typeof value.Secret !== 'string') {
    throw new CredentialHelperError(
      name,
      'get',
      `docker-credential-${name} get: the answer lacks a string "Username" or "Secret"`,
    );
  }
  return {
    ServerURL: typeof value.ServerURL === 'string' ? value.ServerURL : serverURL,
    Username: value.Username,
    Secret: value.Secret,
  };
}

export async function helperStore(
  name: string,
  credentials: HelperCredentials,
  options: HelperOptions = {},
): Promise<void> {
  const result = await runHelper(name, 'store', JSON.stringify(credentials), options);
  if (result.code !== 0) throw helperFailure(name, 'store', 'error storing credentials', result);
}

export async function helperErase(
  name: string,
  serverURL: string,
  options: HelperOptions = {},
): Promise<void> {
  const result = await runHelper(name, 'erase', serverURL, options);
  if (result.code !== 0 && result.stdout.trim() !== NOT_FOUND) {
    throw helperFailure(name, 'erase', 'error erasing credentials', result);
  }
}

/** Server URL to username, for every credential the helper holds. */
export async function helperList(name: string, options: HelperOptions = {}): Promise<Record<string, string>> {
  const result = await runHelper(name, 'list', 'unused', options);
  if (result.code !== 0) throw helperFailure(name, 'list', 'error listing credentials', result);
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    throw new CredentialHelperError(name, 'list', `docker-credential-${name} list: the answer is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CredentialHelperError(name, 'list', `docker-credential-${name} list: expected a JSON object`);
  }
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string')) as Record<
    string,
    string
  >;
}

interface HelperResult {
  code: number;
  stdout: string;
  error?: Error;
}

function helperFailure(
  name: string,
  action: string,
  what: string,
  result: HelperResult,
): CredentialHelperError {
  // As docker's client words it; stdout of a failing helper is its error message, never a secret.
  const cause = result.error?.message ?? `exit status ${result.code}`;
  return new CredentialHelperError(name, action, `${what} - err: ${cause}, out: \`${result.stdout.trim()}\``);
}

function runHelper(
  name: string,
  action: string,
  input: string,
  options: HelperOptions,
): Promise<HelperResult> {
  const binary = helperBinary(name);
  return new Promise((resolve) => {
    const child = spawn(binary, [action], {
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'ignore'],
      timeout: TIMEOUT_MS,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= OUTPUT_LIMIT) chunks.push(chunk);
    });
    let spawnError: Error | undefined;
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError =
        err.code === 'ENOENT' ? new Error(`exec: "${binary}": executable file not found in $PATH`) : err;
    });
    // A helper that exits without reading stdin makes the write fail with EPIPE; the exit status tells the story.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('close', (code) => {
      const stdout = Buffer.concat(chunks).toString('utf8');
      resolve({ code: spawnError ? -1 : (code ?? -1), stdout, ...(spawnError ? { error: spawnError } : {}) });
    });
  });
}
