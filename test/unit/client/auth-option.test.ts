// The `auth` option is read at the edge: encoded forms are decoded, and a bad value is an InvalidAuthOptionError
// that names the option, whichever layer found the fault.
import { describe, expect, it } from 'vitest';
import { readAuthOption } from '../../../client/auth-option.ts';
import { InvalidAuthOptionError } from '../../../client/errors.ts';

const encoded = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

describe('readAuthOption', () => {
  it('decodes dockerode pre-encoded forms and takes any key casing', () => {
    expect(readAuthOption({ authconfig: { key: encoded({ username: 'u', password: 'p' }) } })).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(readAuthOption({ auth: { Username: 'u', Password: 'p' } as never })).toEqual({
      username: 'u',
      password: 'p',
    });
  });

  it('names the option in every fault, the encoding and the decoded fields alike', () => {
    const fault = (options: Parameters<typeof readAuthOption>[0]) => {
      try {
        readAuthOption(options);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidAuthOptionError);
        return (err as Error).message;
      }
      throw new Error('no fault');
    };
    expect(fault({ auth: { key: 'not base64!' } })).toMatch(
      /^invalid option "auth": must be a valid base64url/,
    );
    expect(fault({ authConfig: { base64: encoded({ username: 7 }) } })).toBe(
      'invalid option "authConfig": field "username" must be a string',
    );
    expect(fault({ auth: { username: 7 } as never })).toBe(
      'invalid option "auth": field "username" must be a string',
    );
    expect(fault({ auth: {}, authconfig: {} })).toMatch(/give credentials once/);
  });
});
