import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonAddressError, EngineClient, resolveDaemonAddress } from '../../../client/index.ts';

describe('resolveDaemonAddress', () => {
  it('takes an explicit socket path first, then DOCKER_HOST', () => {
    const env = { DOCKER_HOST: 'unix:///from/env.sock', XDG_RUNTIME_DIR: '/run/user/1' };
    expect(resolveDaemonAddress({ socketPath: '/explicit.sock', env })).toEqual({
      kind: 'unix',
      socketPath: '/explicit.sock',
    });
    expect(resolveDaemonAddress({ env })).toEqual({ kind: 'unix', socketPath: '/from/env.sock' });
    expect(resolveDaemonAddress({ env: { DOCKER_HOST: 'tcp://127.0.0.1:2375' } })).toEqual({
      kind: 'tcp',
      origin: 'http://127.0.0.1:2375',
    });
  });

  it('falls back to the daemon default: $XDG_RUNTIME_DIR/dockhand.sock, else ./.dockhand/dockhand.sock', () => {
    expect(resolveDaemonAddress({ env: { XDG_RUNTIME_DIR: '/run/user/1' } })).toEqual({
      kind: 'unix',
      socketPath: '/run/user/1/dockhand.sock',
    });
    expect(resolveDaemonAddress({ env: {}, cwd: '/work/x' })).toEqual({
      kind: 'unix',
      socketPath: path.join('/work/x', '.dockhand', 'dockhand.sock'),
    });
  });

  it('names what it cannot use', () => {
    expect(() => resolveDaemonAddress({ env: { DOCKER_HOST: 'ssh://me@host' } })).toThrow(
      new DaemonAddressError(
        'unsupported daemon host scheme "ssh" in "ssh://me@host": use unix:// or tcp://',
      ),
    );
    expect(() => resolveDaemonAddress({ env: { DOCKER_HOST: 'tcp://127.0.0.1' } })).toThrow(
      'a port is required',
    );
    expect(() => resolveDaemonAddress({ env: { DOCKER_HOST: 'unix://' } })).toThrow('empty socket path');
  });
});

describe('EngineClient over tcp', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '[::1]'],
  ])('speaks to a daemon named by a tcp:// host (%s)', async (address, host) => {
    const server = http.createServer((req, res) => {
      res.setHeader('api-version', '1.47');
      res.end(req.url === '/_ping' ? 'OK' : '{"Version":"t","ApiVersion":"1.47"}');
    });
    await new Promise<void>((r) => server.listen(0, address, r));
    const client = new EngineClient({ host: `tcp://${host}:${(server.address() as AddressInfo).port}` });
    try {
      expect((await client.version()).ApiVersion).toBe('1.47');
      expect(await client.apiVersion()).toBe('1.47');
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
