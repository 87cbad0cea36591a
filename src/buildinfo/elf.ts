/**
 * ELF (32/64-bit, little and big endian): the program and section headers needed to
 * find Go's build info, read through seeks.
 *
 * @module
 */

import { type Executable, locate, type Segment } from "./executable.ts";
import { cString, Decoder, FormatError, type ReaderAt, toOffset } from "./reader.ts";

const PT_LOAD = 1;
const PF_X = 1;
const PF_W = 2;
const SHT_NOBITS = 8;
const SHN_XINDEX = 0xffff;
/** Section name tables of real binaries are a few KiB; more is not an executable we know. */
const MAX_SHSTRTAB = 1 << 20;

const MACHINES: Record<number, (is64: boolean, little: boolean) => string> = {
  0x03: () => "386",
  0x08: (is64, little) => (is64 ? "mips64" : "mips") + (little ? "le" : ""),
  0x14: () => "ppc",
  0x15: (_, little) => little ? "ppc64le" : "ppc64",
  0x16: () => "s390x",
  0x28: () => "arm",
  0x3e: () => "amd64",
  0xb7: () => "arm64",
  0xf3: (is64) => is64 ? "riscv64" : "riscv",
  0x102: () => "loong64",
};

const OSABIS: Record<number, string> = { 9: "freebsd", 12: "openbsd" };

/**
 * Opens an ELF file whose first 64 bytes are head.
 * @throws FormatError for malformed headers
 */
export async function openElf(r: ReaderAt, head: Uint8Array): Promise<Executable> {
  const cls = head[4];
  const data = head[5];
  if (cls !== 1 && cls !== 2) throw new FormatError(`ELF: unknown class ${cls}`);
  if (data !== 1 && data !== 2) throw new FormatError(`ELF: unknown data encoding ${data}`);
  const is64 = cls === 2;
  const little = data === 1;
  const h = new Decoder(head, little);
  const machine = h.u16(0x12);
  const phoff = toOffset(is64 ? h.u64(0x20) : h.u32(0x1c), "ELF program header offset");
  const shoff = toOffset(is64 ? h.u64(0x28) : h.u32(0x20), "ELF section header offset");
  const phentsize = h.u16(is64 ? 0x36 : 0x2a);
  const phnum = h.u16(is64 ? 0x38 : 0x2c);
  const shentsize = h.u16(is64 ? 0x3a : 0x2e);
  let shnum = h.u16(is64 ? 0x3c : 0x30);
  let shstrndx = h.u16(is64 ? 0x3e : 0x32);

  const segments: Segment[] = [];
  let firstWritableLoad: { addr: bigint; size: bigint } | undefined;
  if (phnum > 0) {
    if (phentsize !== (is64 ? 56 : 32)) {
      throw new FormatError(`ELF: bad program header size ${phentsize}`);
    }
    const ph = new Decoder(await r.read(phoff, phnum * phentsize), little);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      const type = ph.u32(o);
      const flags = is64 ? ph.u32(o + 4) : ph.u32(o + 24);
      const offset = is64 ? ph.u64(o + 8) : BigInt(ph.u32(o + 4));
      const vaddr = is64 ? ph.u64(o + 16) : BigInt(ph.u32(o + 8));
      const filesz = is64 ? ph.u64(o + 32) : BigInt(ph.u32(o + 16));
      const memsz = is64 ? ph.u64(o + 40) : BigInt(ph.u32(o + 20));
      segments.push({ vaddr, filesz, offset: toOffset(offset, "ELF segment offset") });
      if (
        firstWritableLoad === undefined && type === PT_LOAD && (flags & (PF_X | PF_W)) === PF_W
      ) {
        firstWritableLoad = { addr: vaddr, size: memsz };
      }
    }
  }

  let buildInfoSection: { addr: bigint; size: bigint } | undefined;
  if (shoff !== 0) {
    if (shentsize !== (is64 ? 64 : 40)) {
      throw new FormatError(`ELF: bad section header size ${shentsize}`);
    }
    if (shnum === 0 || shstrndx === SHN_XINDEX) {
      // Extended numbering: the real values live in section header 0.
      const sh0 = new Decoder(await r.read(shoff, shentsize), little);
      if (shnum === 0) shnum = toOffset(is64 ? sh0.u64(32) : sh0.u32(20), "ELF section count");
      if (shstrndx === SHN_XINDEX) shstrndx = sh0.u32(is64 ? 40 : 24);
    }
    if (shnum > 0xffffff) throw new FormatError(`ELF: absurd section count ${shnum}`);
    const sh = new Decoder(await r.read(shoff, shnum * shentsize), little);
    const section = (i: number) => {
      const o = i * shentsize;
      return {
        name: sh.u32(o),
        type: sh.u32(o + 4),
        addr: is64 ? sh.u64(o + 16) : BigInt(sh.u32(o + 12)),
        offset: is64 ? sh.u64(o + 24) : BigInt(sh.u32(o + 16)),
        size: is64 ? sh.u64(o + 32) : BigInt(sh.u32(o + 20)),
      };
    };
    if (shstrndx >= shnum) throw new FormatError(`ELF: bad section name table index ${shstrndx}`);
    const strtab = section(shstrndx);
    const strSize = toOffset(strtab.size, "ELF section name table size");
    if (strSize > MAX_SHSTRTAB) throw new FormatError(`ELF: absurd section name table size`);
    const names = await r.read(toOffset(strtab.offset, "ELF section name offset"), strSize);
    for (let i = 0; i < shnum; i++) {
      const s = section(i);
      if (s.type === SHT_NOBITS || s.name >= names.length) continue;
      if (cString(names, s.name) === ".go.buildinfo") {
        buildInfoSection = { addr: s.addr, size: s.size };
        break;
      }
    }
  }

  const osabi = head[7] ?? 0;
  return {
    format: "ELF",
    dataStart: buildInfoSection ?? firstWritableLoad,
    goos: OSABIS[osabi] ?? (osabi === 0 || osabi === 3 ? "linux" : undefined),
    goarch: MACHINES[machine]?.(is64, little),
    async readData(addr: bigint, length: number): Promise<Uint8Array> {
      const at = locate(segments, addr, length);
      if (at === undefined) {
        throw new FormatError(`ELF: no segment holds address 0x${addr.toString(16)}`);
      }
      return await r.read(at.offset, at.length);
    },
  };
}
