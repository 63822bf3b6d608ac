import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileTokenStore, InvalidStoreFileError, LockTimeoutError } from '../../../client/index.ts';
import { acquireLockFile } from '../../../client/stores/lock-file.ts';

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dockhand-store-'));
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('file token store', () => {
  it('round-trips entries by normalized host, in a 0600 file', async () => {
    const file = path.join(dir, 'nested', 'tokens.json');
    const store = createFileTokenStore(file);
    expect(await store.get('docker.io')).toBeUndefined();
    await store.set('registry-1.docker.io', { username: 'hub', refreshToken: 'r1', expiresAt: 5 });
    await store.set('127.0.0.1:5000', { accessToken: 'a', accessTokenFor: 'k' });
    expect(await store.get('docker.io')).toEqual({ username: 'hub', refreshToken: 'r1', expiresAt: 5 });
    expect(await createFileTokenStore(file).get('127.0.0.1:5000')).toEqual({
      accessToken: 'a',
      accessTokenFor: 'k',
    });
    await store.delete('index.docker.io');
    expect(await store.get('docker.io')).toBeUndefined();
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({
      version: 1,
      registries: { '127.0.0.1:5000': { accessToken: 'a', accessTokenFor: 'k' } },
    });
  });

  it('keeps 0600 even under a permissive umask', async () => {
    const file = path.join(dir, 'tokens.json');
    const previous = process.umask(0o000);
    try {
      await createFileTokenStore(file).set('h', { refreshToken: 'r' });
    } finally {
      process.umask(previous);
    }
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('writes atomically: a concurrent reader never sees a partial file, and no temp file is left', async () => {
    const file = path.join(dir, 'tokens.json');
    const store = createFileTokenStore(file);
    await store.set('seed', { refreshToken: 'x'.repeat(50_000) });
    let writing = true;
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        const text = await fs.readFile(file, 'utf8');
        JSON.parse(text);
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 20; i++) await store.set(`host-${i}`, { refreshToken: String(i).repeat(20_000) });
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(await fs.readdir(dir)).toEqual(['tokens.json']);
  });

  it('follows a symlinked store file instead of replacing the link', async () => {
    const real = path.join(dir, 'real.json');
    const link = path.join(dir, 'link.json');
    await createFileTokenStore(real).set('h', { refreshToken: 'r1' });
    await fs.symlink(real, link);
    await createFileTokenStore(link).set('h', { refreshToken: 'r2' });
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
    expect(await createFileTokenStore(real).get('h')).toEqual({ refreshToken: 'r2' });
  });

  it('names the entry and field of a malformed file', async () => {
    const file = path.join(dir, 'tokens.json');
    await fs.writeFile(file, JSON.stringify({ version: 1, registries: { h: { refreshToken: 5 } } }));
    await expect(createFileTokenStore(file).get('h')).rejects.toThrow(
      new InvalidStoreFileError(file, 'registries["h"].refreshToken must be a string'),
    );
  });

  it('holds <path>.lock during withLock, and set() inside it does not wait for itself', async () => {
    const file = path.join(dir, 'tokens.json');
    const store = createFileTokenStore(file);
    await store.withLock('h', async () => {
      expect(JSON.parse(await fs.readFile(`${file}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
      await store.set('h', { refreshToken: 'inside' });
    });
    await expect(fs.access(`${file}.lock`)).rejects.toThrow();
    expect(await store.get('h')).toEqual({ refreshToken: 'inside' });
  });

  it('serialises two store objects on one file within a process', async () => {
    const file = path.join(dir, 'tokens.json');
    const a = createFileTokenStore(file);
    const b = createFileTokenStore(file);
    const order: string[] = [];
    await Promise.all([
      a.withLock('h', async () => {
        order.push('a:in');
        await new Promise((r) => setTimeout(r, 50));
        order.push('a:out');
      }),
      b.withLock('h', async () => {
        order.push('b:in');
        order.push('b:out');
      }),
    ]);
    expect(order).toEqual(['a:in', 'a:out', 'b:in', 'b:out']);
  });
});

describe('lock file', () => {
  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => child.on('exit', r));
    return child.pid!;
  }

  it('takes over a lock whose holder process is gone', async () => {
    const lock = path.join(dir, 'x.lock');
    await fs.writeFile(lock, JSON.stringify({ pid: await deadPid(), hostname: os.hostname(), nonce: 'old' }));
    const started = Date.now();
    const release = await acquireLockFile(lock, { waitMs: 2_000 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(JSON.parse(await fs.readFile(lock, 'utf8')).pid).toBe(process.pid);
    await release();
    await expect(fs.access(lock)).rejects.toThrow();
  });

  it('takes over a lock untouched for longer than staleMs, whoever holds it', async () => {
    const lock = path.join(dir, 'x.lock');
    await fs.writeFile(lock, JSON.stringify({ pid: 1, hostname: 'another-machine', nonce: 'n' }));
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lock, old, old);
    const release = await acquireLockFile(lock, { waitMs: 2_000, staleMs: 30_000 });
    await release();
  });

  it('waits a bounded time for a live holder, then fails with LockTimeoutError', async () => {
    const lock = path.join(dir, 'x.lock');
    const held = await acquireLockFile(lock);
    const started = Date.now();
    await expect(acquireLockFile(lock, { waitMs: 200, pollMs: 20 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    await held();
  });

  it('hands over to a waiter as soon as the holder releases', async () => {
    const lock = path.join(dir, 'x.lock');
    const held = await acquireLockFile(lock);
    setTimeout(() => void held(), 100);
    const release = await acquireLockFile(lock, { waitMs: 2_000, pollMs: 20 });
    await release();
  });
});
