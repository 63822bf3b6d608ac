import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ContentStore } from '../../../daemon/store/content-store.ts';
import { DataRootLockedError } from '../../../daemon/store/errors.ts';
import { lockDataRoot } from '../../../daemon/store/lock.ts';
import { checkAndRemoveRoots, tempRoot } from './helpers.ts';

const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  expect(await checkAndRemoveRoots()).toEqual([]);
});

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('data root lock', () => {
  it('writes our PID and refuses a second opener with an error naming the root and the PID', async () => {
    const root = await tempRoot();
    const lock = await lockDataRoot(root);
    expect(await readFile(join(root, 'dockhand.lock'), 'utf8')).toBe(`${process.pid}\n`);
    const error = await lockDataRoot(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataRootLockedError);
    expect((error as DataRootLockedError).pid).toBe(process.pid);
    expect((error as Error).message).toContain(root);
    expect((error as Error).message).toContain(`pid ${process.pid}`);
    await lock.release();
    const again = await lockDataRoot(root);
    await again.release();
  });

  it('refuses another process while we hold the root', async () => {
    const root = await tempRoot();
    const store = await ContentStore.open(root);
    const script =
      `import { ContentStore } from ${JSON.stringify(new URL('../../../daemon/store/content-store.ts', import.meta.url).pathname)};` +
      `try { await ContentStore.open(${JSON.stringify(root)}); console.log('opened'); }` +
      `catch (e) { console.log(e.name + ': ' + e.message); }`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ]);
    expect(stdout).toContain('DataRootLockedError');
    expect(stdout).toContain(`pid ${process.pid}`);
    expect(stdout).toContain(root);
    await store.close();
  });

  it('refuses a lock held by another live process', async () => {
    const root = await tempRoot();
    const sleeper = spawn('sleep', ['60']);
    children.push(sleeper);
    await writeFile(join(root, 'dockhand.lock'), `${sleeper.pid}\n`);
    const error = await ContentStore.open(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataRootLockedError);
    expect((error as DataRootLockedError).pid).toBe(sleeper.pid);
    sleeper.kill('SIGKILL');
  });

  it('takes over a lock whose process is dead', async () => {
    const root = await tempRoot();
    await writeFile(join(root, 'dockhand.lock'), `${await deadPid()}\n`);
    const store = await ContentStore.open(root);
    expect(await readFile(join(root, 'dockhand.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await store.close();
  });

  it('takes over a lock naming our own PID that this process does not hold (a restarted PID 1)', async () => {
    const root = await tempRoot();
    await writeFile(join(root, 'dockhand.lock'), `${process.pid}\n`);
    const lock = await lockDataRoot(root);
    await lock.release();
  });

  it('takes over an empty lock file once it is old, and waits while it is fresh', async () => {
    const root = await tempRoot();
    const path = join(root, 'dockhand.lock');
    await writeFile(path, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    const lock = await lockDataRoot(root);
    expect(await readFile(path, 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();

    // A fresh empty file is a creator between open and write: it gets the chance to finish.
    await writeFile(path, '');
    const pending = lockDataRoot(root);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await writeFile(path, `${process.ppid}\n`);
    await expect(pending).rejects.toBeInstanceOf(DataRootLockedError);
  });

  it('close releases the lock so the root opens again', async () => {
    const root = await tempRoot();
    const first = await ContentStore.open(root);
    await expect(ContentStore.open(root)).rejects.toBeInstanceOf(DataRootLockedError);
    await first.close();
    const second = await ContentStore.open(root);
    await second.close();
    await expect(readFile(join(root, 'dockhand.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
