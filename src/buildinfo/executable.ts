/**
 * What the build info reader needs from an executable format: where the build info
 * blob may lie, and reads by virtual address (as Go's debug/buildinfo "exe" interface).
 *
 * @module
 */

/** An address range in an executable's virtual address space. */
export interface AddressRange {
  addr: bigint;
  size: bigint;
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
   * Reads up to length bytes at a virtual address: fewer when the segment holding
   * addr ends earlier.
   * @throws FormatError when no segment holds addr
   */
  readData(addr: bigint, length: number): Promise<Uint8Array>;
}

/** A loaded segment: file bytes [offset, offset+filesz) at addresses [vaddr, vaddr+filesz). */
export interface Segment {
  vaddr: bigint;
  filesz: bigint;
  offset: number;
}

/** Finds the segment holding addr and the number of bytes readable there (at most length). */
export function locate(
  segments: readonly Segment[],
  addr: bigint,
  length: number,
): { offset: number; length: number } | undefined {
  for (const s of segments) {
    if (s.filesz > 0n && s.vaddr <= addr && addr <= s.vaddr + s.filesz - 1n) {
      const avail = s.vaddr + s.filesz - addr;
      const n = avail < BigInt(length) ? Number(avail) : length;
      return { offset: s.offset + Number(addr - s.vaddr), length: n };
    }
  }
  return undefined;
}
