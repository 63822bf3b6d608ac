// A streaming reader of the tar archives `docker load` receives (ustar, with the pax and GNU long-name extensions
// docker, skopeo and GNU tar write). One entry at a time, its body handed out as it arrives: nothing is buffered
// beyond one header. Hostile entries are refused here, at the edge: names that are absolute or climb out with '..',
// links whose target leaves the archive, devices and FIFOs, headers whose checksum is wrong, and bodies shorter than
// their header says.
import { posix } from 'node:path';
import { InvalidArchiveError, TruncatedArchiveError, UnsafeEntryError } from './errors.ts';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink';

export interface TarEntry {
  /** Normalized, relative to the archive root, never containing '..'. */
  path: string;
  type: TarEntryType;
  size: number;
  /** For links: the entry the link names, normalized relative to the archive root. */
  linkTarget?: string;
  /** The body's bytes; entries not read are skipped when the next one is asked for. */
  body: AsyncIterable<Buffer>;
}

const BLOCK = 512;
/** pax and GNU long-name records are metadata: a few KiB in practice. */
const MAX_META_BYTES = 1024 * 1024;

export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const at = reader.offset;
    const block = await reader.exact(BLOCK, 'tar header');
    if (block === undefined || isZero(block)) return;
    const header = parseHeader(block, at);
    const size = pax.size !== undefined ? parseDecimal(pax.size, 'pax size', header.name) : header.size;
    const padded = size + ((BLOCK - (size % BLOCK)) % BLOCK);
    if (
      header.typeflag === 'x' ||
      header.typeflag === 'g' ||
      header.typeflag === 'L' ||
      header.typeflag === 'K'
    ) {
      if (size > MAX_META_BYTES) {
        throw new InvalidArchiveError(header.name, `${size}-byte extended header (limit ${MAX_META_BYTES})`);
      }
      const bytes = (await reader.exact(padded, header.name, true))!.subarray(0, size);
      if (header.typeflag === 'x') pax = { ...pax, ...parsePax(bytes, header.name) };
      else if (header.typeflag === 'L') longName = cString(bytes);
      else if (header.typeflag === 'K') longLink = cString(bytes);
      continue;
    }
    const rawName = pax.path ?? longName ?? header.name;
    const rawLink = pax.linkpath ?? longLink ?? header.linkname;
    pax = {};
    longName = undefined;
    longLink = undefined;
    const path = archivePath(rawName);
    const type = entryType(header.typeflag, path);
    const entry: TarEntry = { path, type, size: type === 'file' ? size : 0, body: emptyBody() };
    if (type === 'symlink') entry.linkTarget = symlinkTarget(path, rawLink);
    if (type === 'hardlink') entry.linkTarget = hardlinkTarget(path, rawLink);
    let consumed = false;
    if (type === 'file') {
      entry.body = (async function* () {
        consumed = true;
        yield* reader.take(size, path);
      })();
    }
    yield entry;
    if (!consumed) await drain(reader.take(size, path));
    await drain(reader.take(padded - size, path));
  }
}

interface RawHeader {
  name: string;
  linkname: string;
  size: number;
  typeflag: string;
}

function parseHeader(block: Buffer, offset: number): RawHeader {
  const where = `tar header at byte ${offset}`;
  const stored = parseOctal(block.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  if (stored !== sum)
    throw new InvalidArchiveError(where, 'header checksum does not match (not a tar archive?)');
  const ustar = block.subarray(257, 263).toString('latin1') === 'ustar\0';
  const prefix = ustar ? cString(block.subarray(345, 500)) : '';
  const name = cString(block.subarray(0, 100));
  return {
    name: prefix ? `${prefix}/${name}` : name,
    linkname: cString(block.subarray(157, 257)),
    size: parseSizeField(block.subarray(124, 136), where),
    typeflag: String.fromCharCode(block[156] as number),
  };
}

/** Sizes are octal, or big-endian base-256 when the first byte has its high bit set (GNU, for files ≥ 8 GiB). */
function parseSizeField(field: Buffer, where: string): number {
  if (((field[0] as number) & 0x80) !== 0) {
    let value = (field[0] as number) & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    if (!Number.isSafeInteger(value)) throw new InvalidArchiveError(where, 'entry size out of range');
    return value;
  }
  const value = parseOctal(field);
  if (value === undefined) throw new InvalidArchiveError(where, 'entry size is not an octal number');
  return value;
}

function parseOctal(field: Buffer): number | undefined {
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(text)) return undefined;
  const value = Number.parseInt(text, 8);
  return Number.isSafeInteger(value) ? value : undefined;
}

function parseDecimal(text: string, field: string, entry: string): number {
  if (!/^[0-9]{1,16}$/.test(text)) throw new InvalidArchiveError(entry, `${field} "${text}" is not a number`);
  return Number(text);
}

/** pax records: `<length> <key>=<value>\n`, the length counting the whole record. */
function parsePax(bytes: Buffer, entry: string): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < bytes.length) {
    const space = bytes.indexOf(0x20, at);
    const length = space > at ? Number(bytes.subarray(at, space).toString('latin1')) : Number.NaN;
    if (!Number.isSafeInteger(length) || length <= space - at || at + length > bytes.length) {
      throw new InvalidArchiveError(entry, `malformed pax record at byte ${at}`);
    }
    const record = bytes.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq <= 0) throw new InvalidArchiveError(entry, `malformed pax record at byte ${at}`);
    out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}

function entryType(flag: string, path: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '7':
      return 'file';
    case '5':
      return 'directory';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    default:
      throw new UnsafeEntryError(
        path,
        `entry type '${flag}' (device, FIFO or unknown) has no place in an image archive`,
      );
  }
}

/**
 * A relative name that stays inside the archive: no leading '/', no '..' component, no NUL. `where` names the entry
 * (or the file that holds the name, such as manifest.json) in the error.
 */
export function archivePath(raw: string, where: string = raw): string {
  if (raw === '') throw new UnsafeEntryError(where || '(empty name)', 'an entry has no name');
  if (raw.startsWith('/')) throw new UnsafeEntryError(where, `absolute path ${raw}`);
  if (raw.includes('\0')) throw new UnsafeEntryError(where, 'NUL in the name');
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafeEntryError(where, `${raw} climbs out of the archive with '..'`);
  if (parts.length === 0) return '.';
  return parts.join('/');
}

/** A symlink's target is relative to the link's folder; it must resolve inside the archive. */
function symlinkTarget(path: string, target: string): string {
  if (target.startsWith('/')) throw new UnsafeEntryError(path, `symlink to the absolute path ${target}`);
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved === '..' || resolved.startsWith('../') || target === '') {
    throw new UnsafeEntryError(path, `symlink to ${target} points outside the archive`);
  }
  return resolved;
}

/** A hard link names another entry by its path from the archive root. */
function hardlinkTarget(path: string, target: string): string {
  if (target === '') throw new UnsafeEntryError(path, 'hard link without a target');
  try {
    return archivePath(target);
  } catch {
    throw new UnsafeEntryError(path, `hard link to ${target} points outside the archive`);
  }
}

function cString(bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, nul === -1 ? bytes.length : nul).toString('utf8');
}

function isZero(block: Buffer): boolean {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body);
}

async function* emptyBody(): AsyncGenerator<Buffer> {}

/** Pulls chunks from the source on demand: exact reads for headers, pass-through slices for bodies. */
class ByteReader {
  readonly #source: AsyncIterator<Uint8Array>;
  #buffer: Buffer = Buffer.alloc(0);
  #ended = false;
  /** Bytes handed out so far. */
  offset = 0;

  constructor(source: AsyncIterator<Uint8Array>) {
    this.#source = source;
  }

  /**
   * Exactly `n` bytes; undefined when the archive ends right here (allowed only before a header, where some writers
   * stop without the two zero blocks), TruncatedArchiveError when it ends inside them.
   */
  async exact(n: number, entry: string, required = false): Promise<Buffer | undefined> {
    while (this.#buffer.length < n && (await this.#fill()));
    if (this.#buffer.length < n) {
      if (this.#buffer.length === 0 && !required) return undefined;
      throw new TruncatedArchiveError(entry, `the archive ends ${n - this.#buffer.length} bytes too early`);
    }
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    this.offset += n;
    return out;
  }

  /** `n` bytes as they arrive; TruncatedArchiveError when the archive ends first (a size that lies). */
  async *take(n: number, entry: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.#buffer.length === 0 && !(await this.#fill())) {
        throw new TruncatedArchiveError(entry, `declares ${n} bytes but the archive ends after ${n - left}`);
      }
      const piece = this.#buffer.subarray(0, Math.min(left, this.#buffer.length));
      this.#buffer = this.#buffer.subarray(piece.length);
      this.offset += piece.length;
      left -= piece.length;
      yield piece;
    }
  }

  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const next = await this.#source.next();
    if (next.done) {
      this.#ended = true;
      return false;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    return true;
  }
}
