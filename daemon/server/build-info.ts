// Who the daemon says it is, computed once at start (headers, /version, /info).
import { readFileSync } from 'node:fs';
import { packageFile } from '../../api-spec/package-file.ts';

const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as {
  version: string;
};

export const DAEMON_VERSION: string = pkg.version;

/** The `Server` header moby sends as "Docker/<version> (<GOOS>)". */
export const SERVER_HEADER = `Dockhand/${DAEMON_VERSION} (linux)`;

const GOARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm: 'arm',
  arm64: 'arm64',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** Node's process.arch spelled as Go's GOARCH, which Engine API clients and OCI platforms use. */
export const HOST_ARCH: string = GOARCH[process.arch] ?? process.arch;
