// Who the daemon says it is, computed once at start (headers, /version, /info).
import { readFileSync } from 'node:fs';
import { packageFile } from '../../api-spec/package-file.ts';

const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as {
  version: string;
};

export const DAEMON_VERSION: string = pkg.version;

/** The `Server` header moby sends as "Docker/<version> (<GOOS>)". */
export const SERVER_HEADER = `Dockhand/${DAEMON_VERSION} (linux)`;
