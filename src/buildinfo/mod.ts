/**
 * Reads the build information that the Go toolchain embeds in binaries (what
 * `go version -m` shows) from ELF, Mach-O and PE files, in both the Go 1.18+ inline
 * format and the older pointer format. Only the needed parts of the file are read,
 * through seeks, and every size is bounded: a broken or hostile file ends in one
 * BuildInfoError naming the file.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import { openElf } from "./elf.ts";
import type { Executable } from "./executable.ts";
import { isFatMachO, isMachO, openFatMachO, openMachO } from "./macho.ts";
import { type BuildSetting, type Module, parseModInfo } from "./modinfo.ts";
import { openPe } from "./pe.ts";
import { FileReaderAt, FormatError, type ReaderAt } from "./reader.ts";

export type { BuildSetting, Module } from "./modinfo.ts";
export type { ReaderAt } from "./reader.ts";
export { BytesReaderAt } from "./reader.ts";

/** Build information of a Go binary with module information. */
export interface BuildInfo {
  /** Toolchain that built it, e.g. "go1.23.5". */
  goVersion: string;
  /** Import path of the main package, e.g. "example.com/m/cmd/x". */
  path: string;
  /** The main module (path, version, sum). */
  main: Module;
  deps: Module[];
  settings: BuildSetting[];
  /** Target OS: the GOOS build setting, else what the file header tells. */
  goos: string;
  /** Target architecture: the GOARCH build setting, else what the file header tells. */
  goarch: string;
  /** "ELF", "Mach-O" or "PE". */
  format: string;
}

/** Thrown for any file the build info reader cannot read; the message names the file. */
export class BuildInfoError extends Error {
  /** The file that was read. */
  readonly file: string;
  /** Why, without the file name, e.g. "not an executable". */
  readonly reason: string;

  /**
   * @param file the file that was read
   * @param reason why it could not be read
   */
  constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`${file}: ${reason}`, options);
    this.name = "BuildInfoError";
    this.file = file;
    this.reason = reason;
  }
}

const MAGIC = new Uint8Array([0xff, ...new TextEncoder().encode(" Go buildinf:")]);
const ALIGN = 16n;
const HEADER_SIZE = 32;
/** The magic is normally the first thing in its region: start small, then read more. */
const FIRST_SEARCH_CHUNK = 4 * 1024;
const SEARCH_CHUNK = 64 * 1024;
/** Go's own limit for a pointer-format string. */
const MAX_POINTER_STRING = 1 << 20;
/** Module information of the largest real binaries is well under 1 MiB. */
const MAX_INLINE_STRING = 16 << 20;
const SENTINEL_LENGTH = 16;

/**
 * Reads the build information of the Go binary at path.
 * @throws BuildInfoError for anything but a readable Go binary with module information
 */
export async function readBuildInfo(path: string): Promise<BuildInfo> {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (err) {
    throw new BuildInfoError(path, `cannot open: ${errorMessage(err)}`, { cause: err });
  }
  try {
    const stat = file.statSync();
    if (!stat.isFile) throw new BuildInfoError(path, "not a regular file");
    return await readBuildInfoFrom(new FileReaderAt(file, stat.size), path);
  } finally {
    file.close();
  }
}

/**
 * Reads build information from any ReaderAt; name is used in errors.
 * @throws BuildInfoError for anything but a readable Go binary with module information
 */
export async function readBuildInfoFrom(r: ReaderAt, name: string): Promise<BuildInfo> {
  let raw: { exe: Executable; goVersion: string; modInfo: string };
  try {
    raw = await readRaw(r);
  } catch (err) {
    if (err instanceof BuildInfoError) throw err;
    if (err instanceof FormatError) throw new BuildInfoError(name, err.message, { cause: err });
    if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotFound) {
      throw new BuildInfoError(name, `cannot read: ${errorMessage(err)}`, { cause: err });
    }
    // A parser bug must still end in the reader's own error type, never a crash.
    throw new BuildInfoError(name, `malformed executable (internal error: ${errorMessage(err)})`, {
      cause: err,
    });
  }
  const { exe, goVersion, modInfo } = raw;
  if (modInfo === "") {
    throw new BuildInfoError(
      name,
      `${goVersion} binary without module information: built outside module mode, so its version is unknown`,
    );
  }
  let info;
  try {
    info = parseModInfo(modInfo);
  } catch (err) {
    throw new BuildInfoError(name, errorMessage(err), { cause: err });
  }
  if (info.main.path === "") {
    const path = info.path === "" ? "" : ` (package ${info.path})`;
    throw new BuildInfoError(
      name,
      `${goVersion} binary without a main module${path}: built outside module mode, so its version is unknown`,
    );
  }
  const setting = (key: string) => info.settings.find((s) => s.key === key)?.value;
  return {
    goVersion,
    path: info.path,
    main: info.main,
    deps: info.deps,
    settings: info.settings,
    goos: setting("GOOS") ?? exe.goos ?? "",
    goarch: setting("GOARCH") ?? exe.goarch ?? "",
    format: exe.format,
  };
}

async function readRaw(
  r: ReaderAt,
): Promise<{ exe: Executable; goVersion: string; modInfo: string }> {
  if (r.size < 16) throw new FormatError(`not an executable (file too short: ${r.size} bytes)`);
  const head = await r.read(0, Math.min(64, r.size));
  const exe = cachingReads(await openExecutable(r, head));
  const region = exe.dataStart;
  if (region === undefined || region.size === 0n) {
    throw new FormatError(`not a Go executable (${exe.format} without a data section)`);
  }
  const addr = await searchMagic(exe, region.addr, region.size);
  const header = await exe.readData(addr, HEADER_SIZE);
  if (header.length < HEADER_SIZE) throw new FormatError("not a Go executable (short header)");
  const ptrSize = header[14];
  const flags = header[15] ?? 0;
  let goVersion: string;
  let modInfo: string;
  if ((flags & 2) !== 0) {
    const v = await readInlineString(exe, addr + BigInt(HEADER_SIZE));
    const m = await readInlineString(exe, v.next);
    goVersion = latin1(v.bytes);
    modInfo = frameModInfo(m.bytes);
  } else {
    if (ptrSize !== 4 && ptrSize !== 8) {
      throw new FormatError(`not a Go executable (pointer size ${ptrSize})`);
    }
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const little = (flags & 1) === 0;
    const ptr = (b: DataView, o: number) =>
      ptrSize === 8 ? b.getBigUint64(o, little) : BigInt(b.getUint32(o, little));
    const readString = async (at: bigint): Promise<Uint8Array> => {
      const h = await exe.readData(at, 2 * ptrSize);
      if (h.length < 2 * ptrSize) return new Uint8Array();
      const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
      const len = ptr(hv, ptrSize);
      if (len > BigInt(MAX_POINTER_STRING)) return new Uint8Array();
      const data = await exe.readData(ptr(hv, 0), Number(len));
      return data.length === Number(len) ? data : new Uint8Array();
    };
    goVersion = latin1(await readString(ptr(view, 16)));
    modInfo = frameModInfo(await readString(ptr(view, 16 + ptrSize)));
  }
  if (goVersion === "") throw new FormatError("not a Go executable (no Go version)");
  return { exe, goVersion, modInfo };
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

/**
 * Serves reads that fall inside the largest block read so far from memory: the
 * header and both strings follow the magic, inside the block the search read.
 */
function cachingReads(exe: Executable): Executable {
  let block: { addr: bigint; bytes: Uint8Array } | undefined;
  return {
    format: exe.format,
    dataStart: exe.dataStart,
    goos: exe.goos,
    goarch: exe.goarch,
    async readData(addr: bigint, length: number): Promise<Uint8Array> {
      if (block !== undefined && addr >= block.addr) {
        const off = addr - block.addr;
        if (off + BigInt(length) <= BigInt(block.bytes.length)) {
          return block.bytes.subarray(Number(off), Number(off) + length);
        }
      }
      const bytes = await exe.readData(addr, length);
      if (block === undefined || bytes.length > block.bytes.length) block = { addr, bytes };
      return bytes;
    },
  };
}

/** Finds the 16-byte aligned magic in [start, start+size), reading in bounded chunks. */
async function searchMagic(exe: Executable, start: bigint, size: bigint): Promise<bigint> {
  const end = start + size;
  const first = (start + ALIGN - 1n) / ALIGN * ALIGN;
  let addr = first;
  while (addr < end) {
    const remaining = end - addr;
    const chunkSize = addr === first ? FIRST_SEARCH_CHUNK : SEARCH_CHUNK;
    const want = remaining < BigInt(chunkSize) ? Number(remaining) : chunkSize;
    let chunk: Uint8Array;
    try {
      chunk = await exe.readData(addr, want);
    } catch (err) {
      if (err instanceof FormatError) break; // the region runs past the file's data (bss)
      throw err;
    }
    if (chunk.length === 0) break;
    for (let i = 0; i + MAGIC.length <= chunk.length; i += 16) {
      if (matchesMagic(chunk, i)) {
        if (remaining - BigInt(i) < BigInt(HEADER_SIZE)) break;
        return addr + BigInt(i);
      }
    }
    addr += BigInt(chunk.length);
    // Keep the scan aligned when a segment boundary made the read short.
    addr = (addr + ALIGN - 1n) / ALIGN * ALIGN;
  }
  throw new FormatError("not a Go executable (no build info)");
}

function matchesMagic(chunk: Uint8Array, at: number): boolean {
  for (let j = 0; j < MAGIC.length; j++) if (chunk[at + j] !== MAGIC[j]) return false;
  return true;
}

/** Reads a uvarint-prefixed string at addr (the Go 1.18+ inline format). */
async function readInlineString(
  exe: Executable,
  addr: bigint,
): Promise<{ bytes: Uint8Array; next: bigint }> {
  const b = await exe.readData(addr, 10);
  let length = 0n;
  let n = 0;
  for (let shift = 0n;; shift += 7n) {
    const byte = b[n];
    if (byte === undefined || n >= 10) {
      throw new FormatError("not a Go executable (bad string length)");
    }
    n++;
    length |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
  }
  if (length > BigInt(MAX_INLINE_STRING)) {
    throw new FormatError(`not a Go executable (absurd string length ${length})`);
  }
  const start = addr + BigInt(n);
  const bytes = await exe.readData(start, Number(length));
  if (bytes.length < Number(length)) throw new FormatError("truncated build info string");
  return { bytes, next: start + length };
}

/** Strips the 16-byte sentinels around module information; "" when it is not framed. */
function frameModInfo(bytes: Uint8Array): string {
  if (bytes.length >= 33 && bytes[bytes.length - 17] === 0x0a) {
    return UTF8.decode(bytes.subarray(SENTINEL_LENGTH, bytes.length - SENTINEL_LENGTH));
  }
  return "";
}

const LATIN1 = new TextDecoder("latin1");
const UTF8 = new TextDecoder();

function latin1(bytes: Uint8Array): string {
  return LATIN1.decode(bytes);
}
