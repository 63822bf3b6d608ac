// A credential helper speaking the docker-credential-helpers protocol, installed as
// `<dir>/bin/docker-credential-<name>`: it stores each credential as the JSON it was given, in a file named after
// the hex of its server URL, and records every invocation (action and server URL, never the secret).

import { promises as fs } from 'node:fs';
import path from 'node:path';

const SCRIPT = `#!/bin/sh
dir="$DHTEST_DIR"
input=$(cat)
key() { printf '%s' "$1" | od -An -tx1 | tr -d ' \\n'; }
url_of() { printf '%s' "$1" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p'; }
record() { [ -n "$DHTEST_LOG" ] && printf '%s %s\\n' "$1" "$2" >> "$DHTEST_LOG"; return 0; }
case "$1" in
  store)
    url=$(url_of "$input")
    record store "$url"
    [ -n "$url" ] || { echo "no credentials server URL"; exit 1; }
    printf '%s\\n' "$input" > "$dir/$(key "$url").cred" ;;
  get)
    record get "$input"
    f="$dir/$(key "$input").cred"
    if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase)
    record erase "$input"
    f="$dir/$(key "$input").cred"
    if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  list)
    record list ""
    sep=''
    printf '{'
    for f in "$dir"/*.cred; do
      [ -f "$f" ] || continue
      url=$(url_of "$(cat "$f")")
      user=$(sed -n 's/.*"Username":"\\([^"]*\\)".*/\\1/p' "$f")
      printf '%s"%s":"%s"' "$sep" "$url" "$user"
      sep=','
    done
    printf '}\\n' ;;
  *) echo "unknown action"; exit 1 ;;
esac
`;

export interface InstalledCredentialHelper {
  /** The suffix for config.json's credsStore / credHelpers. */
  name: string;
  /** The directory holding the helper's stored credentials (one file each). */
  dataDir: string;
  /** PATH (helper first) and the helper's own variables, to merge into a process environment. */
  env: NodeJS.ProcessEnv;
  /** Every invocation so far, in order: `{ action, serverURL }`. */
  invocations(): Promise<{ action: string; serverURL: string }[]>;
}

/** Installs the helper under `dir` (bin/, helper-data/, helper-calls.log). */
export async function installCredentialHelper(
  dir: string,
  name = 'dhtest',
): Promise<InstalledCredentialHelper> {
  const bin = path.join(dir, 'bin');
  const dataDir = path.join(dir, 'helper-data');
  const log = path.join(dir, 'helper-calls.log');
  await fs.mkdir(bin, { recursive: true });
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(path.join(bin, `docker-credential-${name}`), SCRIPT, { mode: 0o755 });
  return {
    name,
    dataDir,
    env: { PATH: `${bin}:${process.env['PATH']}`, DHTEST_DIR: dataDir, DHTEST_LOG: log },
    async invocations() {
      const text = await fs.readFile(log, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const space = line.indexOf(' ');
          return { action: line.slice(0, space), serverURL: line.slice(space + 1) };
        });
    },
  };
}
