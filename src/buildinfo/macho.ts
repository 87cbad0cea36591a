/**
 * Mach-O (32/64-bit, both byte orders) and fat/universal files: the segments and
 * sections needed to find Go's build info.
 *
 * @module
 */

import { type Executable, findSegment, type Segment } from "./executable.ts";
import {
  cString,
  Decoder,
  FormatError,
  type ReaderAt,
  SectionReaderAt,
  toOffset,
} from "./reader.ts";

const LC_SEGMENT = 0x1;
const LC_SEGMENT_64 = 0x19;
const MAX_FAT_ARCHS = 64;

const CPU_TYPES: Record<number, string> = {
  7: "386",
  0x01000007: "amd64",
  12: "arm",
  0x0100000c: "arm64",
  18: "ppc",
  0x01000012: "ppc64",
};

/** Reports whether the first 4 bytes are a Mach-O magic (thin file). */
export function isMachO(head: Uint8Array): boolean {
  const magics = [0xfeedface, 0xfeedfacf];
  return head.length >= 4 &&
    (magics.includes(new Decoder(head, false).u32(0)) ||
      magics.includes(new Decoder(head, true).u32(0)));
}

/** Reports whether the first 4 bytes are a fat/universal Mach-O magic. */
export function isFatMachO(head: Uint8Array): boolean {
  return head[0] === 0xca && head[1] === 0xfe && head[2] === 0xba &&
    (head[3] === 0xbe || head[3] === 0xbf);
}

/**
 * Opens the first architecture of a fat Mach-O file.
 * @throws FormatError for malformed headers
 */
export async function openFatMachO(r: ReaderAt, head: Uint8Array): Promise<Executable> {
  const h = new Decoder(head, false);
  const is64 = head[3] === 0xbf;
  const n = h.u32(4);
  // Java class files share the 0xcafebabe magic; their "count" is a version number >= 45.
  if (n === 0 || n > MAX_FAT_ARCHS) {
    throw new FormatError(`fat Mach-O: bad architecture count ${n}`);
  }
  const entry = new Decoder(await r.read(8, is64 ? 32 : 20), false);
  const offset = toOffset(is64 ? entry.u64(8) : entry.u32(8), "fat Mach-O offset");
  const size = toOffset(is64 ? entry.u64(16) : entry.u32(12), "fat Mach-O size");
  if (size < 32) throw new FormatError(`fat Mach-O: architecture too small (${size} bytes)`);
  const inner = new SectionReaderAt(r, offset, size);
  const innerHead = await inner.read(0, 32);
  if (!isMachO(innerHead)) throw new FormatError("fat Mach-O: first architecture is not Mach-O");
  return await openMachO(inner, innerHead);
}

/**
 * Opens a thin Mach-O file whose first 32 bytes are head.
 * @throws FormatError for malformed headers
 */
export async function openMachO(r: ReaderAt, head: Uint8Array): Promise<Executable> {
  const little = head[0] === 0xce || head[0] === 0xcf;
  const h = new Decoder(head, little);
  const magic = h.u32(0);
  const is64 = magic === 0xfeedfacf;
  const cpu = h.u32(4);
  const ncmds = h.u32(16);
  const sizeofcmds = h.u32(20);
  const cmds = new Decoder(await r.read(is64 ? 32 : 28, sizeofcmds), little);

  const segments: Segment[] = [];
  let section: { addr: bigint; size: bigint } | undefined;
  let rwSegment: { addr: bigint; size: bigint } | undefined;
  let o = 0;
  for (let i = 0; i < ncmds; i++) {
    if (o + 8 > cmds.length) throw new FormatError(`Mach-O: load command ${i} beyond commands`);
    const cmd = cmds.u32(o);
    const cmdsize = cmds.u32(o + 4);
    if (cmdsize < 8 || o + cmdsize > cmds.length) {
      throw new FormatError(`Mach-O: bad size ${cmdsize} of load command ${i}`);
    }
    if (cmd === LC_SEGMENT_64 || cmd === LC_SEGMENT) {
      const w = cmd === LC_SEGMENT_64 ? 8 : 4;
      const segname = cString(cmds.bytes(o + 8, 16));
      const vmaddr = cmds.uint(o + 24, w);
      const fileoff = cmds.uint(o + 24 + 2 * w, w);
      const filesize = cmds.uint(o + 24 + 3 * w, w);
      const maxprot = cmds.u32(o + 24 + 4 * w);
      const initprot = cmds.u32(o + 28 + 4 * w);
      const nsects = cmds.u32(o + 32 + 4 * w);
      if (segname !== "__PAGEZERO") {
        segments.push({
          vaddr: vmaddr,
          filesz: filesize,
          offset: toOffset(fileoff, "Mach-O offset"),
        });
      }
      if (
        rwSegment === undefined && vmaddr !== 0n && filesize !== 0n && initprot === 3 &&
        maxprot === 3
      ) {
        rwSegment = { addr: vmaddr, size: filesize };
      }
      const sectSize = w === 8 ? 80 : 68;
      const first = o + (w === 8 ? 72 : 56);
      if (first + nsects * sectSize > o + cmdsize) {
        throw new FormatError(`Mach-O: ${nsects} sections do not fit load command ${i}`);
      }
      for (let s = 0; s < nsects && section === undefined; s++) {
        const so = first + s * sectSize;
        if (cString(cmds.bytes(so, 16)) === "__go_buildinfo") {
          section = { addr: cmds.uint(so + 32, w), size: cmds.uint(so + 32 + w, w) };
        }
      }
    }
    o += cmdsize;
  }

  return {
    format: "Mach-O",
    dataStart: section ?? rwSegment,
    goos: "darwin",
    goarch: CPU_TYPES[cpu],
    segmentAt: (addr) => findSegment(segments, addr),
    reader: r,
  };
}
