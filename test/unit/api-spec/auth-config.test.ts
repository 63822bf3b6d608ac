import { describe, expect, it } from 'vitest';
import { decodeAuthConfig, encodeAuthConfig, InvalidAuthHeaderError } from '../../../api-spec/auth-config.ts';

describe('X-Registry-Auth codec', () => {
  it('encodes as base64url with padding, like Go', () => {
    expect(encodeAuthConfig({})).toBe('e30=');
    const v = encodeAuthConfig({ username: 'u?>', password: 'p~~~' });
    expect(v).toMatch(/^[A-Za-z0-9_-]+=*$/);
    expect(v.length % 4).toBe(0);
  });

  it('decodes padded, unpadded and standard base64', () => {
    const cfg = { username: 'testuser', password: 'a?b>c', serveraddress: '127.0.0.1:5001' };
    const url = encodeAuthConfig(cfg);
    expect(decodeAuthConfig(url)).toEqual(cfg);
    expect(decodeAuthConfig(url.replace(/=+$/, ''))).toEqual(cfg);
    expect(decodeAuthConfig(Buffer.from(JSON.stringify(cfg)).toString('base64'))).toEqual(cfg);
  });

  it('treats empty as anonymous and keeps the per-host token map', () => {
    expect(decodeAuthConfig(undefined)).toEqual({});
    expect(decodeAuthConfig('')).toEqual({});
    const cfg = { registrytokens: { 'a:1': 't1', 'b:2': 't2' } };
    expect(decodeAuthConfig(encodeAuthConfig(cfg))).toEqual(cfg);
  });

  it('refuses what it cannot decode, naming the reason', () => {
    expect(() => decodeAuthConfig('not base64!')).toThrow(InvalidAuthHeaderError);
    expect(() => decodeAuthConfig(Buffer.from('{"a":').toString('base64'))).toThrow(/not one JSON document/);
    expect(() => decodeAuthConfig(Buffer.from('[1]').toString('base64'))).toThrow(/JSON object/);
    expect(() => decodeAuthConfig(Buffer.from('{"username":5}').toString('base64'))).toThrow(/"username"/);
  });
});
