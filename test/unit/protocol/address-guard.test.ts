// address-guard.ts: one resolution, the refused addresses dropped before the socket sees them, and a refusal when
// none is left. No address here is contacted except 127.0.0.1.
import type { LookupAddress, LookupOptions } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  AddressRefusedError,
  connectRefusal,
  guardedConnector,
  type Resolver,
  screenedLookup,
} from '../../../protocol/index.ts';

const resolver =
  (answer: LookupAddress[]): Resolver =>
  async () =>
    answer;
const REGISTRY = 'registry.test:5000';
const screen = (hostname: string, address: string) => connectRefusal(hostname, address, REGISTRY);

function look(resolve: Resolver, hostname: string, options: LookupOptions) {
  return new Promise<{ error: NodeJS.ErrnoException | null; result: unknown }>((done) =>
    screenedLookup(resolve, screen)(hostname, options, (error, address, family) =>
      done({ error, result: options.all ? address : { address, family } }),
    ),
  );
}

describe('screenedLookup', () => {
  const mixed = resolver([
    { address: '169.254.169.254', family: 4 },
    { address: '10.0.0.8', family: 4 },
    { address: '203.0.113.9', family: 4 },
    { address: '2001:db8::9', family: 6 },
  ]);

  it('hands the socket only the addresses the policy allows', async () => {
    expect((await look(mixed, 'cdn.test', { all: true })).result).toEqual([
      { address: '203.0.113.9', family: 4 },
      { address: '2001:db8::9', family: 6 },
    ]);
    expect((await look(mixed, 'cdn.test', {})).result).toEqual({ address: '203.0.113.9', family: 4 });
    expect((await look(mixed, 'cdn.test', { family: 6 })).result).toEqual({
      address: '2001:db8::9',
      family: 6,
    });
  });

  it('fails with AddressRefusedError, naming the name and the class, when every address is refused', async () => {
    const { error } = await look(resolver([{ address: '169.254.169.254', family: 4 }]), 'meta.test', {
      all: true,
    });
    expect(error).toBeInstanceOf(AddressRefusedError);
    expect((error as AddressRefusedError).reason).toBe('link-local');
    expect((error as AddressRefusedError).hostname).toBe('meta.test');
    expect(error?.message).toContain('meta.test');
  });

  it("leaves the registry's own name alone: the registry is reached wherever its name points", async () => {
    const privateRegistry = resolver([{ address: '10.0.0.5', family: 4 }]);
    expect((await look(privateRegistry, 'registry.test', { all: true })).result).toEqual([
      { address: '10.0.0.5', family: 4 },
    ]);
  });
});

describe('guardedConnector', () => {
  it('refuses an IP literal, which is never looked up, before connecting', async () => {
    const connect = await guardedConnector(REGISTRY, {}, resolver([]));
    const error = await new Promise<Error | null>((done) =>
      connect({ hostname: '127.0.0.1', host: '127.0.0.1:9', port: '9', protocol: 'http:' }, (...args) =>
        done(args[0]),
      ),
    );
    expect(error).toBeInstanceOf(AddressRefusedError);
    expect((error as AddressRefusedError).reason).toBe('loopback');
  });
});
