/**
 * Primitives for reading binary formats: random access to a file through seeks,
 * with every read bounded by the file's size (so hostile size fields can never make
 * the reader allocate or read too much), and bounds-checked integer decoding.
 *
 * @module
 */

/** Thrown by parsers for malformed input; readBuildInfo turns it into a BuildInfoError. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FormatError";
  }
}

/** Positional reads from a file or a byte array. */
export interface ReaderAt {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Reads exactly length bytes at offset.
   * @throws FormatError when the range lies (partly) outside the data
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** The largest single read any parser may ask for (64 MiB); more is an absurd size field. */
export const MAX_READ = 64 << 20;

/**
 * A ReaderAt over an open file, reading with seek + read; memory use is that of each
 * read. It reads synchronously: the reads are small and few, and a synchronous read
 * takes microseconds where an asynchronous one takes a thread-pool round trip.
 */
export class FileReaderAt implements ReaderAt {
  readonly size: number;
  #file: Deno.FsFile;

  /**
   * @param file an open file
   * @param size its size in bytes
   */
  constructor(file: Deno.FsFile, size: number) {
    this.#file = file;
    this.size = size;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    const buf = new Uint8Array(length);
    this.#file.seekSync(offset, Deno.SeekMode.Start);
    let n = 0;
    while (n < length) {
      const got = this.#file.readSync(buf.subarray(n));
      if (got === null) {
        return Promise.reject(new FormatError(`unexpected end of file at offset ${offset + n}`));
      }
      n += got;
    }
    return Promise.resolve(buf);
  }
}

/** A ReaderAt over bytes in memory (tests, and sub-ranges of a file). */
export class BytesReaderAt implements ReaderAt {
  readonly size: number;
  #bytes: Uint8Array;

  /** @param bytes the data */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.size = bytes.length;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    return Promise.resolve(this.#bytes.slice(offset, offset + length));
  }
}

/** A window [base, base+size) of another ReaderAt, e.g. one architecture of a fat Mach-O file. */
export class SectionReaderAt implements ReaderAt {
  readonly size: number;
  #inner: ReaderAt;
  #base: number;

  /**
   * @param inner the underlying reader
   * @param base the window's start offset in inner
   */
  constructor(inner: ReaderAt, base: number, size: number) {
    checkRange(inner.size, base, size);
    this.#inner = inner;
    this.#base = base;
    this.size = size;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    return this.#inner.read(this.#base + offset, length);
  }
}

/**
 * Converts a 64-bit value read from a file into a safe integer offset or size.
 * @throws FormatError when it cannot be a position in a file
 */
export function toOffset(value: bigint | number, what: string): number {
  const n = typeof value === "bigint" ? value : BigInt(value);
  if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FormatError(`${what} out of range: ${n}`);
  }
  return Number(n);
}

function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new FormatError(`invalid read of ${length} bytes at offset ${offset}`);
  }
  if (length > MAX_READ) throw new FormatError(`absurd size ${length} at offset ${offset}`);
  if (offset + length > size) {
    throw new FormatError(
      `truncated: ${length} bytes at offset ${offset} lie beyond the end of the file (${size} bytes)`,
    );
  }
}

/** Endian-aware integer decoding from a byte array; every access is bounds-checked. */
export class Decoder {
  #view: DataView;
  #little: boolean;

  /**
   * @param bytes the bytes to decode
   * @param littleEndian byte order
   */
  constructor(bytes: Uint8Array, littleEndian: boolean) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#little = littleEndian;
  }

  /** Length of the underlying bytes. */
  get length(): number {
    return this.#view.byteLength;
  }

  u8(offset: number): number {
    this.#check(offset, 1);
    return this.#view.getUint8(offset);
  }

  u16(offset: number): number {
    this.#check(offset, 2);
    return this.#view.getUint16(offset, this.#little);
  }

  u32(offset: number): number {
    this.#check(offset, 4);
    return this.#view.getUint32(offset, this.#little);
  }

  u64(offset: number): bigint {
    this.#check(offset, 8);
    return this.#view.getBigUint64(offset, this.#little);
  }

  /** A copy of length bytes at offset. */
  bytes(offset: number, length: number): Uint8Array {
    this.#check(offset, length);
    return new Uint8Array(this.#view.buffer, this.#view.byteOffset + offset, length).slice();
  }

  /** An unsigned integer of 4 or 8 bytes, as bigint. */
  uint(offset: number, size: 4 | 8): bigint {
    return size === 8 ? this.u64(offset) : BigInt(this.u32(offset));
  }

  #check(offset: number, size: number): void {
    if (offset < 0 || offset + size > this.#view.byteLength) {
      throw new FormatError(`truncated header: field at ${offset} beyond ${this.#view.byteLength}`);
    }
  }
}

/** A NUL-terminated name from a fixed-size or string-table field. */
export function cString(bytes: Uint8Array, start = 0, max = bytes.length - start): string {
  let end = start;
  const limit = Math.min(bytes.length, start + max);
  while (end < limit && bytes[end] !== 0) end++;
  return LATIN1.decode(bytes.subarray(start, end));
}

const LATIN1 = new TextDecoder("latin1");
