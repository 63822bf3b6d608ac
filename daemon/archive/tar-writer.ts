// A streaming ustar writer: headers and padding around bodies that are streamed from the store, never held whole.
// docker save writes only regular files; the other entry types exist for tests of the reader.

export const TAR_BLOCK = 512;

export interface TarHeaderOptions {
  /** Seconds since the epoch; a fixed value makes identical archives byte for byte. */
  mtime?: number;
  mode?: number;
  /** ustar typeflag: '0' (a file, the default), '2' symlink, '1' hard link, '6' FIFO, … */
  type?: string;
  linkname?: string;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** A ustar header (a regular file unless `type` says otherwise); names longer than 100 bytes go into the ustar prefix field. */
export function tarHeader(name: string, size: number, options: TarHeaderOptions = {}): Buffer {
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const slash = name.lastIndexOf('/', 155);
    prefix = slash > 0 ? name.slice(0, slash) : '';
    base = name.slice(slash + 1);
    if (slash <= 0 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(base) > 100) {
      throw new Error(`tar: name does not fit a ustar header: ${name}`);
    }
  }
  const header = Buffer.alloc(TAR_BLOCK);
  header.write(base, 0);
  header.write(octal(options.mode ?? 0o644, 8), 100);
  header.write(octal(0, 8), 108);
  header.write(octal(0, 8), 116);
  header.write(octal(size, 12), 124);
  header.write(octal(options.mtime ?? 0, 12), 136);
  header.write('        ', 148);
  header.write(options.type ?? '0', 156);
  header.write(options.linkname ?? '', 157);
  header.write('ustar\u000000', 257);
  header.write('root', 265);
  header.write('root', 297);
  header.write(prefix, 345);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}

/** The zero bytes that round a body of `size` bytes up to whole blocks. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK);
}

/** The two zero blocks that end an archive. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * TAR_BLOCK);
}

/** One file entry: header, body chunks as they come, padding. */
export async function* tarFile(
  name: string,
  size: number,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options?: TarHeaderOptions,
): AsyncGenerator<Uint8Array> {
  yield tarHeader(name, size, options);
  let written = 0;
  for await (const chunk of body) {
    written += chunk.byteLength;
    if (written > size) throw new Error(`tar: ${name} is longer than the ${size} bytes announced`);
    yield chunk;
  }
  if (written !== size) throw new Error(`tar: ${name} ended after ${written} of ${size} bytes`);
  yield tarPadding(size);
}
