/**
 * PE (Windows, 32/64-bit): the section table needed to find Go's build info.
 *
 * @module
 */

import { type Executable, findSegment, type Segment } from "./executable.ts";
import { Decoder, FormatError, type ReaderAt, toOffset } from "./reader.ts";

const IMAGE_SCN_ALIGN_32BYTES = 0x600000;
const DATA_CHARACTERISTICS = 0xc0000040; // INITIALIZED_DATA | MEM_READ | MEM_WRITE
const MAX_SECTIONS = 96; // the PE/COFF limit

const MACHINES: Record<number, string> = {
  0x14c: "386",
  0x8664: "amd64",
  0x1c4: "arm",
  0xaa64: "arm64",
};

/**
 * Opens a PE file (first bytes "MZ").
 * @throws FormatError for malformed headers
 */
export async function openPe(r: ReaderAt, head: Uint8Array): Promise<Executable> {
  const peOffset = new Decoder(head, true).u32(0x3c);
  const coff = new Decoder(await r.read(peOffset, 24), true);
  if (coff.u32(0) !== 0x00004550) throw new FormatError("PE: missing PE signature");
  const machine = coff.u16(4);
  const nsections = coff.u16(6);
  const optSize = coff.u16(20);
  if (nsections > MAX_SECTIONS) throw new FormatError(`PE: absurd section count ${nsections}`);
  const opt = new Decoder(await r.read(peOffset + 24, optSize), true);
  const optMagic = opt.u16(0);
  let imageBase: bigint;
  if (optMagic === 0x10b) imageBase = BigInt(opt.u32(28));
  else if (optMagic === 0x20b) imageBase = opt.u64(24);
  else throw new FormatError(`PE: unknown optional header magic 0x${optMagic.toString(16)}`);

  const table = new Decoder(await r.read(peOffset + 24 + optSize, nsections * 40), true);
  const segments: Segment[] = [];
  let data: { addr: bigint; size: bigint } | undefined;
  for (let i = 0; i < nsections; i++) {
    const o = i * 40;
    const virtualSize = table.u32(o + 8);
    const virtualAddress = table.u32(o + 12);
    const rawSize = table.u32(o + 16);
    const rawOffset = table.u32(o + 20);
    const characteristics = table.u32(o + 36);
    segments.push({
      vaddr: imageBase + BigInt(virtualAddress),
      filesz: BigInt(rawSize),
      offset: toOffset(rawOffset, "PE section offset"),
    });
    if (
      data === undefined && virtualAddress !== 0 && rawSize !== 0 &&
      ((characteristics & ~IMAGE_SCN_ALIGN_32BYTES) >>> 0) === DATA_CHARACTERISTICS
    ) {
      data = { addr: imageBase + BigInt(virtualAddress), size: BigInt(virtualSize) };
    }
  }

  return {
    format: "PE",
    dataStart: data,
    goos: "windows",
    goarch: MACHINES[machine],
    segmentAt: (addr) => findSegment(segments, addr),
    reader: r,
  };
}
