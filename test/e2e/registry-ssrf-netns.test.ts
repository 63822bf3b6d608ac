// Redirects to link-local (cloud metadata) and private addresses, and token realms named by a DNS name that resolves
// there, are refused before any request. The daemon and a registry run inside a network namespace made for the test,
// where 169.254.169.254 and a 10.x address are local listeners that count what reaches them, and where the
// namespace's own hosts file gives the realm names those addresses: nothing leaves the machine even if the refusal
// failed.

import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { pullRaw } from '../helpers/raw-pull.ts';

const LINK_LOCAL = '169.254.169.254';
const PRIVATE = '10.23.0.1';
const METADATA_NAME = 'metadata.evil.test';
const PRIVATE_NAME = 'auth.internal.test';
const REALMS = [
  [METADATA_NAME, LINK_LOCAL, 'a link-local address'],
  [PRIVATE_NAME, PRIVATE, 'a private-network address'],
] as const;
const ROOT = join(import.meta.dirname, '..', '..');

let netns: Netns;
let child: ChildProcess;
let lines: Interface;
let rig: { socket: string; registry: string };
const pending: ((line: string) => void)[] = [];

function nextLine(): Promise<string> {
  return new Promise((resolve) => pending.push(resolve));
}

beforeAll(async () => {
  netns = createNetns([LINK_LOCAL, PRIVATE], { [METADATA_NAME]: LINK_LOCAL, [PRIVATE_NAME]: PRIVATE });
  child = netns.spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'netns-ssrf-rig.ts'), LINK_LOCAL, PRIVATE],
    { cwd: ROOT },
  );
  lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => pending.shift()?.(line));
  rig = JSON.parse(await nextLine());
});

afterAll(async () => {
  child?.stdin?.end();
  if (child && child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  netns?.remove();
});

async function ask<T>(line: string): Promise<T> {
  const answer = nextLine();
  child.stdin!.write(`${line}\n`);
  return JSON.parse(await answer);
}

const counts = () => ask<Record<string, number>>('counts');

describe('redirect targets inside a network namespace', () => {
  it.each([
    ['metadata', LINK_LOCAL, 'a link-local address'],
    ['private', PRIVATE, 'a private-network address'],
  ])(
    'a manifest redirected to %s (%s) is refused, and the address gets no request',
    async (repo, address, why) => {
      const outcome = await pullRaw(rig.socket, `${rig.registry}/${repo}`, '1');
      expect(outcome.status).toBe(500);
      expect(outcome.message).toContain(
        `redirect from ${rig.registry} to http://${address}/latest/meta-data/ refused`,
      );
      expect(outcome.message).toContain(why);
      expect((await counts())[address]).toBe(0);
    },
  );
});

describe('a large layer redirected inside a network namespace', () => {
  it.each([
    ['metadata', LINK_LOCAL, 'a link-local address'],
    ['private', PRIVATE, 'a private-network address'],
  ])(
    'a 3 MiB layer (read over the bulk wire) redirected to %s (%s) is refused, and the address gets no request',
    async (repo, address, why) => {
      const before = (await ask<boolean[]>('layer gets')).length;
      const outcome = await pullRaw(rig.socket, `${rig.registry}/big-${repo}`, '1');
      const failure = outcome.message ?? outcome.messages.find((m) => m.error !== undefined)?.error ?? '';
      expect(failure).toContain(
        `redirect from ${rig.registry} to http://${address}/latest/meta-data/ refused`,
      );
      expect(failure).toContain(why);
      expect((await counts())[address]).toBe(0);
      // The layer GET that was redirected went out as a bulk request, on a blob thread's connection: one that carried
      // no manifest or config GET (the daemon's own wire carries those).
      const gets = (await ask<boolean[]>('layer gets')).slice(before);
      expect(gets.length).toBeGreaterThan(0);
      for (const alone of gets) expect(alone).toBe(true);
    },
  );
});

describe('token realms named by DNS inside a network namespace', () => {
  it.each(REALMS)(
    'a realm on %s (resolving to %s) is refused, and the address gets no token request nor credential',
    async (name, address, why) => {
      const auth = { username: 'netns-user', password: 'netns-secret-password' };
      const outcome = await pullRaw(rig.socket, `${rig.registry}/realm/${name}`, '1', auth);
      expect(outcome.status).toBe(500);
      expect(outcome.message).toContain(`token realm http://${name}/latest/meta-data/token refused`);
      expect(outcome.message).toContain(`${address} is ${why}`);
      expect(outcome.message).not.toContain(auth.password);
      expect((await counts())[address]).toBe(0);
    },
  );

  it.each(REALMS)(
    'the SDK token handler refuses a realm on %s (resolving to %s) too',
    async (name, address, why) => {
      const outcome = await ask<{ error?: string; message?: string }>(`sdk ${name}`);
      expect(outcome.error).toBe('RealmRefusedError');
      expect(outcome.message).toContain(`${address} is ${why}`);
      expect((await counts())[address]).toBe(0);
    },
  );
});
