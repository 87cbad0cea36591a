/**
 * What the build info reader needs from an executable format: where the build info
 * blob may lie, the loaded segments, and reads by virtual address (as Go's
 * debug/buildinfo "exe" interface).
 *
 * @module
 */

import { FormatError, type ReaderAt } from "./reader.ts";

/** An address range in an executable's virtual address space. */
export interface AddressRange {
  addr: bigint;
  size: bigint;
}

/** A loaded segment: file bytes [offset, offset+filesz) at addresses [vaddr, vaddr+filesz). */
export interface Segment {
  vaddr: bigint;
  filesz: bigint;
  offset: number;
}

/** An executable file opened by one of the format parsers. */
export interface Executable {
  /** "ELF", "Mach-O" or "PE". */
  readonly format: string;
  /** Where to search for the build info magic; undefined when there is no such region. */
  readonly dataStart: AddressRange | undefined;
  /** GOOS and GOARCH as the file header tells them, where it does. */
  readonly goos: string | undefined;
  readonly goarch: string | undefined;
  /**
   * The first segment (ELF program header, Mach-O segment, PE section, in file
   * order) whose file data holds addr, as Go's ReadData picks it; undefined when none does.
   */
  segmentAt(addr: bigint): Segment | undefined;
  /** The file. */
  readonly reader: ReaderAt;
}

/** The first of segments holding addr; undefined when none does. */
export function findSegment(segments: readonly Segment[], addr: bigint): Segment | undefined {
  for (const s of segments) {
    if (s.filesz > 0n && s.vaddr <= addr && addr < s.vaddr + s.filesz) return s;
  }
  return undefined;
}

/**
 * Reads up to length bytes at addr from segment s: fewer when the segment ends
 * earlier, none when it does not hold addr.
 */
export async function readIn(
  exe: Executable,
  s: Segment,
  addr: bigint,
  length: number,
): Promise<Uint8Array> {
  if (addr < s.vaddr || addr >= s.vaddr + s.filesz) return new Uint8Array();
  const avail = s.vaddr + s.filesz - addr;
  const n = avail < BigInt(length) ? Number(avail) : length;
  return await exe.reader.read(s.offset + Number(addr - s.vaddr), n);
}

/**
 * Reads up to length bytes at a virtual address from the first segment holding it:
 * fewer when that segment ends earlier.
 * @throws FormatError when no segment holds addr
 */
export async function readData(
  exe: Executable,
  addr: bigint,
  length: number,
): Promise<Uint8Array> {
  const s = exe.segmentAt(addr);
  if (s === undefined) {
    throw new FormatError(`${exe.format}: no segment holds address 0x${addr.toString(16)}`);
  }
  return await readIn(exe, s, addr, length);
}
