import { describe, expect, it } from 'vitest';
import { RealmRefusedError } from '../../../protocol/errors.ts';
import { checkRealm } from '../../../protocol/realm-policy.ts';

const hub = { host: 'registry-1.docker.io', secure: true };
const local = { host: '127.0.0.1:5000', secure: false };

describe('checkRealm: allowed', () => {
  it.each([
    ['https://auth.docker.io/token', hub],
    ['https://auth.example.com:8443/token?x=1', hub],
    ['http://auth.example.com/token', { host: 'reg.example.com', secure: false }],
    // the test rig: registry and token server on different loopback ports
    ['http://127.0.0.1:5001/token', local],
    ['http://127.0.0.2/token', local],
    ['http://[::1]:5001/token', local],
    ['http://localhost:5001/token', local],
    ['http://127.0.0.1:5001/token', { host: 'localhost:5000', secure: false }],
    ['https://127.0.0.1:5001/token', { host: '[::1]:5000', secure: true }],
    // the registry's own private address, on any port
    ['https://10.1.2.3:5001/token', { host: '10.1.2.3:5000', secure: true }],
    ['https://[fd00::1]/token', { host: '[fd00::1]:443', secure: true }],
    ['https://192.168.1.10/token', { host: '192.168.1.10', secure: true }],
    // public IP literals are fine
    ['https://8.8.8.8/token', hub],
    ['https://172.32.0.1/token', hub],
    ['https://[2001:db8::1]/token', hub],
  ])('%s for %j', (realm, registry) => {
    expect(checkRealm(realm, registry)).toBeInstanceOf(URL);
  });
});

describe('checkRealm: refused', () => {
  it.each([
    ['http://auth.docker.io/token', hub, 'insecure'],
    ['ftp://auth.docker.io/token', hub, 'scheme'],
    ['file:///etc/passwd', hub, 'scheme'],
    ['not a url', hub, 'invalid-url'],
    ['/token', hub, 'invalid-url'],
    ['https://user:pw@auth.docker.io/token', hub, 'userinfo'],
    ['https://169.254.169.254/latest/meta-data/', hub, 'link-local'],
    ['http://169.254.169.254/latest/meta-data/', local, 'link-local'],
    ['https://[fe80::1]/token', hub, 'link-local'],
    ['https://127.0.0.1/token', hub, 'loopback'],
    ['https://localhost/token', hub, 'loopback'],
    ['https://admin.localhost/token', hub, 'loopback'],
    ['https://[::1]/token', hub, 'loopback'],
    ['https://10.0.0.1/token', hub, 'private'],
    ['https://172.16.5.4/token', hub, 'private'],
    ['https://172.31.255.255/token', hub, 'private'],
    ['https://192.168.0.1/token', hub, 'private'],
    ['https://[fc00::1]/token', hub, 'private'],
    ['https://[fdff::1]/token', hub, 'private'],
    ['https://0.0.0.0/token', hub, 'unspecified'],
    ['https://[::]/token', hub, 'unspecified'],
    // encodings WHATWG URL normalizes to the address they reach
    ['https://0x7f.1/token', hub, 'loopback'],
    ['https://2130706433/token', hub, 'loopback'],
    ['https://0/token', hub, 'unspecified'],
    ['https://[::ffff:169.254.169.254]/token', hub, 'link-local'],
    ['https://[::ffff:127.0.0.1]/token', hub, 'loopback'],
    // a private realm for another private host, and loopback for a private registry
    ['https://10.0.0.2/token', { host: '10.0.0.1:5000', secure: true }, 'private'],
    ['http://127.0.0.1:5001/token', { host: '10.0.0.1:5000', secure: false }, 'loopback'],
    // a link-local realm is refused even for a loopback registry
    ['http://169.254.169.254/token', { host: 'localhost:5000', secure: false }, 'link-local'],
  ])('%s for %j (%s)', (realm, registry, reason) => {
    let thrown: unknown;
    try {
      checkRealm(realm, registry);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RealmRefusedError);
    expect(thrown).toMatchObject({ field: 'realm', reason });
  });

  it('says clearly why the metadata address is refused', () => {
    expect(() => checkRealm('https://169.254.169.254/latest/meta-data/iam', hub)).toThrow(
      'token realm https://169.254.169.254/latest/meta-data/iam refused: 169.254.169.254 is a link-local address (this range holds cloud metadata services) and not the registry host registry-1.docker.io',
    );
  });

  it('never repeats userinfo or query in the message', () => {
    try {
      checkRealm('http://user:hunter2@auth.example.com/t?secret=1', hub);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toMatch(/hunter2|secret/);
    }
  });
});
