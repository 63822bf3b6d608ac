import { describe, expect, it } from 'vitest';
import { hostName, isLoopbackHost } from '../../../protocol/loopback.ts';

describe('isLoopbackHost', () => {
  const loopback = [
    '127.0.0.1',
    '127.0.0.1:5000',
    '127.8.9.10:80',
    'localhost',
    'LOCALHOST:5000',
    'registry.localhost:5000',
    '[::1]:5000',
    '::1',
  ];
  const remote = [
    'registry.example.com',
    'registry.example.com:443',
    '128.0.0.1:5000',
    '10.0.0.1',
    'localhost.example.com',
    '[::2]:5000',
    '[fe80::1]',
    '127.0.0.1.nip.io:5000',
    '',
  ];
  it.each([
    ...loopback.map((host) => [host, true] as const),
    ...remote.map((host) => [host, false] as const),
  ])('%s: loopback (plain HTTP) is %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('hostName', () => {
  it('drops the port and IPv6 brackets, and keeps a bare IPv6 literal whole', () => {
    expect(hostName('registry.example.com:5000')).toBe('registry.example.com');
    expect(hostName('[::1]:5000')).toBe('::1');
    expect(hostName('[::1]')).toBe('::1');
    expect(hostName('::1')).toBe('::1');
    expect(hostName('docker.io')).toBe('docker.io');
  });
});
