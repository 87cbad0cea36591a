/**
 * The build info blob of a Go binary: found and decoded as Go's debug/buildinfo
 * does, with every size bounded before anything is read.
 *
 * - The magic is searched only in the segment that holds the start of the data
 *   region, up to its end, as Go does: a file whose region spans many segments
 *   (65,000 program headers mapping the same bytes) costs one segment's scan.
 * - The Go version is at most MAX_GO_VERSION bytes and the module information at
 *   most MAX_MOD_INFO; longer ones are refused before they are read.
 * - Unreadable strings mean what they mean to Go: no Go version is "not a Go
 *   executable", unreadable module information is "no module information".
 *
 * @module
 */

import { openElf } from "./elf.ts";
import { type Executable, readData, readIn, type Segment } from "./executable.ts";
import { isFatMachO, isMachO, openFatMachO, openMachO } from "./macho.ts";
import { openPe } from "./pe.ts";
import { FormatError, type ReaderAt } from "./reader.ts";

/** What the blob holds, undecoded, and the executable it came from. */
export interface RawBuildInfo {
  exe: Executable;
  /** The Go version bytes as Latin-1 text (Go's strings are bytes). */
  goVersion: string;
  /** The module information text between the sentinels; "" when there is none. */
  modInfo: string;
}

/**
 * The longest Go version accepted. Real ones are short: "go1.23.5",
 * "go1.23.5 X:nocoverageredesign", "devel go1.24-1a2b3c4 Tue Jan 7 10:00:00 2025 +0000".
 */
export const MAX_GO_VERSION = 1024;
/** The longest module information accepted: the largest real binaries have well under 1 MiB. */
export const MAX_MOD_INFO = 4 << 20;

const MAGIC = new Uint8Array([0xff, ...new TextEncoder().encode(" Go buildinf:")]);
const ALIGN = 16n;
const HEADER_SIZE = 32;
/** The magic is normally the first thing in its region: start small, then read more. */
const FIRST_SEARCH_CHUNK = 4 * 1024;
const SEARCH_CHUNK = 64 * 1024;
const SENTINEL_LENGTH = 16;
const MAX_VARINT_LEN = 10;

/**
 * Opens the executable in r and reads its build info blob.
 * @throws FormatError for anything but a Go binary
 */
export async function readRawBuildInfo(r: ReaderAt): Promise<RawBuildInfo> {
  if (r.size < 16) throw new FormatError(`not an executable (file too short: ${r.size} bytes)`);
  const head = await r.read(0, Math.min(64, r.size));
  const exe = await openExecutable(r, head);
  const region = exe.dataStart;
  if (region === undefined || region.size === 0n) {
    throw new FormatError(`not a Go executable (${exe.format} without a data section)`);
  }
  const blob = await findBlob(exe, region.addr, region.size);
  const header = await blob.read(blob.addr, HEADER_SIZE);
  const ptrSize = header[14];
  const flags = header[15] ?? 0;
  let version: Uint8Array | undefined;
  let mod: Uint8Array | undefined;
  if ((flags & 2) !== 0) {
    const v = await inlineString(
      blob,
      blob.addr + BigInt(HEADER_SIZE),
      MAX_GO_VERSION,
      "Go version",
    );
    version = v?.bytes;
    if (v !== undefined) {
      mod = (await inlineString(blob, v.next, MAX_MOD_INFO, "module information"))?.bytes;
    }
  } else {
    if (ptrSize !== 4 && ptrSize !== 8) {
      throw new FormatError(`not a Go executable (pointer size ${ptrSize})`);
    }
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const little = (flags & 1) === 0;
    const ptr = (b: DataView, o: number) =>
      ptrSize === 8 ? b.getBigUint64(o, little) : BigInt(b.getUint32(o, little));
    // Go's readString: a failure to read gives an empty string.
    const readString = async (at: bigint, max: number, what: string) => {
      try {
        const h = await readData(exe, at, 2 * ptrSize);
        if (h.length < 2 * ptrSize) return undefined;
        const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
        const len = ptr(hv, ptrSize);
        if (len > BigInt(max)) throw tooLong(what, len, max);
        const data = await readData(exe, ptr(hv, 0), Number(len));
        return data.length === Number(len) ? data : undefined;
      } catch (err) {
        if (err instanceof FormatError && !(err instanceof TooLong)) return undefined;
        throw err;
      }
    };
    version = await readString(ptr(view, 16), MAX_GO_VERSION, "Go version");
    mod = await readString(ptr(view, 16 + ptrSize), MAX_MOD_INFO, "module information");
  }
  if (version === undefined || version.length === 0) {
    throw new FormatError("not a Go executable (no Go version)");
  }
  return { exe, goVersion: LATIN1.decode(version), modInfo: frameModInfo(mod) };
}

async function openExecutable(r: ReaderAt, head: Uint8Array): Promise<Executable> {
  if (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) {
    return await openElf(r, head);
  }
  if (head[0] === 0x4d && head[1] === 0x5a) return await openPe(r, head);
  if (isMachO(head)) return await openMachO(r, head);
  if (isFatMachO(head)) return await openFatMachO(r, head);
  throw new FormatError("not an executable (unrecognized file format)");
}

/** Where the magic was found, the end of the data after it, and reads within its segment. */
interface Blob {
  addr: bigint;
  /** The end of what Go would have read: the region or the segment, whichever ends first. */
  end: bigint;
  /** Reads up to length bytes at addr within the segment, from the block the search read when it holds them. */
  read(addr: bigint, length: number): Promise<Uint8Array>;
}

/** Finds the 16-byte aligned magic in [start, start+size), within the segment holding start. */
async function findBlob(exe: Executable, start: bigint, size: bigint): Promise<Blob> {
  const seg = exe.segmentAt(start);
  if (seg === undefined) {
    throw new FormatError(
      `not a Go executable (no ${exe.format} segment holds its data at 0x${start.toString(16)})`,
    );
  }
  const segEnd = seg.vaddr + seg.filesz;
  const end = start + size < segEnd ? start + size : segEnd;
  const first = (start + ALIGN - 1n) / ALIGN * ALIGN;
  let addr = first;
  search: while (addr < end) {
    const remaining = end - addr;
    const chunkSize = BigInt(addr === first ? FIRST_SEARCH_CHUNK : SEARCH_CHUNK);
    const chunk = await readIn(
      exe,
      seg,
      addr,
      Number(remaining < chunkSize ? remaining : chunkSize),
    );
    for (let i = 0; i + MAGIC.length <= chunk.length; i += 16) {
      if (!matchesMagic(chunk, i)) continue;
      const at = addr + BigInt(i);
      if (end - at < BigInt(HEADER_SIZE)) break search; // as Go: no room for the header
      return { addr: at, end, read: blockReads(exe, seg, addr, chunk) };
    }
    addr += BigInt(chunk.length);
  }
  throw new FormatError("not a Go executable (no build info)");
}

function blockReads(exe: Executable, seg: Segment, blockAddr: bigint, block: Uint8Array) {
  return async (addr: bigint, length: number): Promise<Uint8Array> => {
    const off = addr - blockAddr;
    if (off >= 0n && off + BigInt(length) <= BigInt(block.length)) {
      return block.subarray(Number(off), Number(off) + length);
    }
    return await readIn(exe, seg, addr, length);
  };
}

function matchesMagic(chunk: Uint8Array, at: number): boolean {
  for (let j = 0; j < MAGIC.length; j++) if (chunk[at + j] !== MAGIC[j]) return false;
  return true;
}

/**
 * Reads a uvarint-prefixed string at addr (the Go 1.18+ inline format), as Go's
 * decodeString: undefined when the length is malformed or runs past the blob's end.
 * @throws TooLong when it is longer than max (before reading it)
 */
async function inlineString(
  blob: Blob,
  addr: bigint,
  max: number,
  what: string,
): Promise<{ bytes: Uint8Array; next: bigint } | undefined> {
  if (addr >= blob.end) return undefined;
  const avail = blob.end - addr;
  const b = await blob.read(addr, avail < MAX_VARINT_LEN ? Number(avail) : MAX_VARINT_LEN);
  let length = 0n;
  let n = 0;
  for (;;) {
    const byte = b[n];
    // Go's binary.Uvarint: at most 10 bytes, the 10th at most 1.
    if (byte === undefined || (n === MAX_VARINT_LEN - 1 && byte > 1)) return undefined;
    length |= BigInt(byte & 0x7f) << BigInt(7 * n);
    n++;
    if (byte < 0x80) break;
  }
  const start = addr + BigInt(n);
  if (length > blob.end - start) return undefined;
  if (length > BigInt(max)) throw tooLong(what, length, max);
  const bytes = await blob.read(start, Number(length));
  if (bytes.length < Number(length)) return undefined;
  return { bytes, next: start + length };
}

/** A string longer than ysco reads; unlike other read failures, never taken for an empty string. */
class TooLong extends FormatError {}

function tooLong(what: string, length: bigint, max: number): TooLong {
  return new TooLong(`not a Go executable (${what} of ${length} bytes, more than ${max})`);
}

/** Strips the 16-byte sentinels around module information; "" when it is not framed. */
function frameModInfo(bytes: Uint8Array | undefined): string {
  if (bytes !== undefined && bytes.length >= 33 && bytes[bytes.length - 17] === 0x0a) {
    return UTF8.decode(bytes.subarray(SENTINEL_LENGTH, bytes.length - SENTINEL_LENGTH));
  }
  return "";
}

const LATIN1 = new TextDecoder("latin1");
const UTF8 = new TextDecoder();
