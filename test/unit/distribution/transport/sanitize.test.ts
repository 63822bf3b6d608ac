// sanitize.ts: every form a held credential travels in is masked in registry text.
import { describe, expect, it } from 'vitest';
import { Secrets } from '../../../../daemon/distribution/transport/sanitize.ts';

describe('Secrets.mask', () => {
  it('masks tokens, passwords, their Basic form and their URL-encoded form', () => {
    const secrets = new Secrets();
    secrets.add('eyJhbGciOi.token+/=');
    secrets.addBasic('me', 'hunter22');
    const basic = Buffer.from('me:hunter22').toString('base64');
    const text = `denied: eyJhbGciOi.token+/= ${encodeURIComponent('eyJhbGciOi.token+/=')} hunter22 Basic ${basic}`;
    expect(secrets.mask(text)).toBe('denied: *** *** *** Basic ***');
  });

  it('leaves short values alone, so ordinary words survive', () => {
    const secrets = new Secrets();
    secrets.add('pull');
    secrets.add(undefined);
    expect(secrets.mask('pull access denied')).toBe('pull access denied');
  });
});
