// A real dockerd as the reference engine for the API section, started by hand only if it is installed (the bench
// never installs it: `apt-get install docker.io` gives Debian's 20.10 as /usr/sbin/dockerd; its CLI lands in
// /usr/bin/docker, after /usr/local/bin on PATH, and DOCKHAND_DOCKER_CLI pins the tests' CLI). vfs storage and no networking:
// nothing on the host is touched beyond its own folders, and it pulls the bench's images from the loopback registry
// (127.0.0.0/8 is insecure by default, so plain HTTP works without flags).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ServerProcess, startServerProcess } from './server-process.ts';

export const DOCKERD = '/usr/sbin/dockerd';

export function dockerdInstalled(): boolean {
  return existsSync(DOCKERD);
}

export async function startDockerd(dir: string): Promise<ServerProcess> {
  await mkdir(dir, { recursive: true });
  const socket = join(dir, 'dockerd.sock');
  return startServerProcess({
    name: 'dockerd',
    command: DOCKERD,
    args: [
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--storage-driver=vfs',
      '--host',
      `unix://${socket}`,
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'dockerd.pid'),
    ],
    socket,
    readyTimeoutMs: 30_000,
    // dockerd stops its own containerd on SIGTERM; a SIGKILL would leave that one behind.
    stopGraceMs: 20_000,
  });
}
