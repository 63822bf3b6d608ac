import { describe, expect, it } from 'vitest';
import {
  InvalidArchiveError,
  TruncatedArchiveError,
  UnsafeEntryError,
} from '../../../daemon/archive/errors.ts';
import { readTar, type TarEntry } from '../../../daemon/archive/tar-reader.ts';
import { tarEnd, tarHeader, tarPadding } from '../../../daemon/archive/tar-writer.ts';
import { chunks } from '../store/helpers.ts';

interface Spec {
  name: string;
  body?: Buffer;
  type?: string;
  linkname?: string;
}

function archive(specs: Spec[], end = true): Buffer {
  const parts: Buffer[] = [];
  for (const { name, body = Buffer.alloc(0), type, linkname } of specs) {
    parts.push(
      tarHeader(name, body.length, { ...(type ? { type } : {}), ...(linkname ? { linkname } : {}) }),
    );
    parts.push(body, tarPadding(body.length));
  }
  if (end) parts.push(tarEnd());
  return Buffer.concat(parts);
}

/** Every entry with its body read (or not, when `skip` names it), from chunks of `chunkSize` bytes. */
async function entries(bytes: Buffer, chunkSize = 7, skip: string[] = []) {
  const out: (Omit<TarEntry, 'body'> & { text?: string })[] = [];
  for await (const { body, ...entry } of readTar(chunks(bytes, chunkSize))) {
    if (skip.includes(entry.path)) {
      out.push(entry);
      continue;
    }
    const parts: Buffer[] = [];
    for await (const chunk of body) parts.push(chunk);
    out.push({ ...entry, text: Buffer.concat(parts).toString() });
  }
  return out;
}

async function refusal(bytes: Buffer): Promise<InvalidArchiveError> {
  const error = await entries(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidArchiveError);
  return error as InvalidArchiveError;
}

describe('tar reader', () => {
  it('reads files, folders and links from odd-sized chunks, skipping bodies nobody reads', async () => {
    const bytes = archive([
      { name: 'dir/', type: '5' },
      { name: './dir/a.json', body: Buffer.from('{"a":1}') },
      { name: 'dir/big', body: Buffer.alloc(1500, 7) },
      { name: 'dir/link', type: '2', linkname: 'a.json' },
      { name: 'hard', type: '1', linkname: 'dir/a.json' },
      { name: 'last', body: Buffer.from('end') },
    ]);
    expect(await entries(bytes, 7, ['dir/big'])).toEqual([
      { path: 'dir', type: 'directory', size: 0, text: '' },
      { path: 'dir/a.json', type: 'file', size: 7, text: '{"a":1}' },
      { path: 'dir/big', type: 'file', size: 1500 },
      { path: 'dir/link', type: 'symlink', size: 0, linkTarget: 'dir/a.json', text: '' },
      { path: 'hard', type: 'hardlink', size: 0, linkTarget: 'dir/a.json', text: '' },
      { path: 'last', type: 'file', size: 3, text: 'end' },
    ]);
  });

  it('takes long names from pax records and GNU long-name entries, and tolerates a missing end marker', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(110)}`;
    // A pax record's length counts its own digits.
    const record = (key: string, value: string) => {
      const text = ` ${key}=${value}\n`;
      let length = text.length + 1;
      while (String(length).length + text.length !== length) length = String(length).length + text.length;
      return `${length}${text}`;
    };
    const pax = Buffer.from(record('path', long));
    const bytes = archive(
      [
        { name: 'PaxHeaders/x', type: 'x', body: pax },
        { name: 'placeholder', body: Buffer.from('pax') },
        { name: '././@LongLink', type: 'L', body: Buffer.from(`${long}.gnu\0`) },
        { name: 'placeholder2', body: Buffer.from('gnu') },
      ],
      false,
    );
    const read = await entries(bytes, 100);
    expect(read.map((e) => [e.path, e.text])).toEqual([
      [long, 'pax'],
      [`${long}.gnu`, 'gnu'],
    ]);
  });

  it('refuses names and links that leave the archive, and entries an image archive never holds', async () => {
    const cases: [Spec, string][] = [
      [{ name: '../up', body: Buffer.from('x') }, "../up climbs out of the archive with '..'"],
      [{ name: 'a/../../up', body: Buffer.from('x') }, 'climbs out of the archive'],
      [{ name: '/etc/passwd', body: Buffer.from('x') }, 'absolute path /etc/passwd'],
      [{ name: 'l', type: '2', linkname: '/etc/passwd' }, 'symlink to the absolute path /etc/passwd'],
      [{ name: 'a/l', type: '2', linkname: '../../x' }, 'symlink to ../../x points outside the archive'],
      [{ name: 'h', type: '1', linkname: '../x' }, 'hard link to ../x points outside the archive'],
      [{ name: 'dev', type: '3' }, "entry type '3'"],
      [{ name: 'fifo', type: '6' }, "entry type '6'"],
    ];
    for (const [spec, reason] of cases) {
      const error = await refusal(archive([spec]));
      expect(error, spec.name).toBeInstanceOf(UnsafeEntryError);
      expect(error.message, spec.name).toContain(reason);
    }
  });

  it('refuses a body shorter than its header says, a cut header and a header that is not one', async () => {
    const whole = archive([{ name: 'blob', body: Buffer.alloc(2000, 1) }]);
    const short = await refusal(whole.subarray(0, 512 + 1000));
    expect(short).toBeInstanceOf(TruncatedArchiveError);
    expect(short.message).toBe(
      'invalid image archive: blob: declares 2000 bytes but the archive ends after 1000',
    );
    expect(await refusal(whole.subarray(0, 300))).toBeInstanceOf(TruncatedArchiveError);
    const garbage = Buffer.from(whole);
    garbage[10] = 0x41;
    expect((await refusal(garbage)).message).toContain('header checksum does not match');
  });
});
