// startDaemon's sockets: mode 0660, stale files replaced, a live daemon's socket refused, loopback tcp, cleanup.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonStartError, startDaemon } from '../../../daemon/main.ts';
import { engineRequest } from '../../helpers/openapi-check.ts';
import { PYTHON } from '../../rig/packages.ts';
import { FakeImageService } from './fake-image-service.ts';
import { quietLogger, testConfig } from './harness.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dh-sock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const start = (hosts: Parameters<typeof testConfig>[1]) =>
  startDaemon(testConfig(dir, hosts), { imageService: new FakeImageService(), logger: quietLogger() });

/** A socket file left behind by a process that died without unlinking it (python binds and exits). */
function staleSocket(path: string): void {
  execFileSync(PYTHON, ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
}

describe('startDaemon sockets', () => {
  it('creates the socket (and its directory) with mode 0660 and removes it on close', async () => {
    const path = join(dir, 'nested', 'run', 'a.sock');
    const d = await start({ hosts: [{ kind: 'unix', path }] });
    expect((await stat(path)).mode & 0o777).toBe(0o660);
    expect((await engineRequest(path, { path: '/_ping' })).body).toBe('OK');
    await d.close();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('replaces a stale socket file nobody listens on', async () => {
    const path = join(dir, 'stale.sock');
    staleSocket(path);
    expect((await stat(path)).isSocket()).toBe(true);
    const d = await start({ hosts: [{ kind: 'unix', path }] });
    expect((await engineRequest(path, { path: '/_ping' })).status).toBe(200);
    await d.close();
  });

  it("refuses a live daemon's socket and a path that is not a socket, leaving both alone", async () => {
    const path = join(dir, 'live.sock');
    const first = await start({ hosts: [{ kind: 'unix', path }] });
    try {
      await expect(start({ hosts: [{ kind: 'unix', path }] })).rejects.toThrow(
        new DaemonStartError(`another daemon is already listening on unix://${path}`),
      );
      expect((await engineRequest(path, { path: '/_ping' })).status).toBe(200);
    } finally {
      await first.close();
    }
    const file = join(dir, 'plain-file');
    await writeFile(file, 'keep me');
    await expect(start({ hosts: [{ kind: 'unix', path: file }] })).rejects.toThrow(
      'exists and is not a socket',
    );
    expect((await stat(file)).isFile()).toBe(true);
  });

  it('listens on several hosts at once, including loopback tcp with an ephemeral port', async () => {
    const path = join(dir, 'multi.sock');
    const d = await start({
      hosts: [
        { kind: 'unix', path },
        { kind: 'tcp', host: '127.0.0.1', port: 0 },
      ],
    });
    try {
      const tcp = d.sockets[1];
      expect(tcp).toMatchObject({ kind: 'tcp', host: '127.0.0.1' });
      const port = tcp?.kind === 'tcp' ? tcp.port : 0;
      expect(port).toBeGreaterThan(0);
      const res = await fetch(`http://127.0.0.1:${port}/v1.41/_ping`);
      expect(await res.text()).toBe('OK');
      expect(res.headers.get('api-version')).toBe('1.50');
    } finally {
      await d.close();
    }
  });

  it('refuses a tcp address off loopback even when the config was built by hand', async () => {
    await expect(start({ hosts: [{ kind: 'tcp', host: '0.0.0.0', port: 0 }] })).rejects.toThrow(
      'refusing to listen on tcp://0.0.0.0:0: not a loopback address',
    );
  });

  it('closes what it opened when a later host fails', async () => {
    const good = join(dir, 'first.sock');
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, '');
    await expect(
      start({
        hosts: [
          { kind: 'unix', path: good },
          { kind: 'unix', path: blocker },
        ],
      }),
    ).rejects.toThrow(DaemonStartError);
    await expect(stat(good)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
