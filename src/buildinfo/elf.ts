/**
 * ELF (32/64-bit, little and big endian): the program and section headers needed to
 * find Go's build info, read through seeks.
 *
 * @module
 */

import type { Executable, Segment } from "./executable.ts";
import { cString, Decoder, FormatError, type ReaderAt, toOffset } from "./reader.ts";

const PT_LOAD = 1;
const PT_INTERP = 3;
const PT_GNU_STACK = 0x6474e551;
const PF_X = 1;
const PF_W = 2;
const SHT_NOBITS = 8;
const SHN_XINDEX = 0xffff;
/** Section name tables of real binaries are a few KiB; more is not an executable we know. */
const MAX_SHSTRTAB = 1 << 20;
/** The longest interpreter path read (PATH_MAX). */
const MAX_INTERP = 4096;

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

/** EI_OSABI values Go's linker writes; linux, android, dragonfly, solaris and illumos write 0. */
const OSABIS: Record<number, string> = { 2: "netbsd", 9: "freebsd", 12: "openbsd" };

const GO_BUILDINFO = new TextEncoder().encode(".go.buildinfo\0");

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

  if (phnum > 0 && phentsize !== (is64 ? 56 : 32)) {
    throw new FormatError(`ELF: bad program header size ${phentsize}`);
  }
  const progs = new ProgramHeaders(
    phnum > 0 ? await r.read(phoff, phnum * phentsize) : new Uint8Array(),
    phnum,
    is64,
    little,
  );
  let firstWritableLoad: { addr: bigint; size: bigint } | undefined;
  let interp: Segment | undefined;
  let gnuStack = false;
  for (let i = 0; i < phnum; i++) {
    const type = progs.type(i);
    if (type === PT_INTERP) interp ??= progs.at(i);
    if (type === PT_GNU_STACK) gnuStack = true;
    if (
      firstWritableLoad === undefined && type === PT_LOAD &&
      (progs.flags(i) & (PF_X | PF_W)) === PF_W
    ) {
      firstWritableLoad = { addr: progs.vaddr(i), size: progs.memsz(i) };
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
    const field = (i: number, at64: number, at32: number) =>
      is64 ? sh.u64(i * shentsize + at64) : BigInt(sh.u32(i * shentsize + at32));
    if (shstrndx >= shnum) throw new FormatError(`ELF: bad section name table index ${shstrndx}`);
    const strSize = toOffset(field(shstrndx, 32, 20), "ELF section name table size");
    if (strSize > MAX_SHSTRTAB) throw new FormatError(`ELF: absurd section name table size`);
    const names = await r.read(
      toOffset(field(shstrndx, 24, 16), "ELF section name offset"),
      strSize,
    );
    for (let i = 0; i < shnum; i++) {
      const name = sh.u32(i * shentsize);
      if (sh.u32(i * shentsize + 4) === SHT_NOBITS || !hasName(names, name)) continue;
      buildInfoSection = { addr: field(i, 16, 12), size: field(i, 32, 20) };
      break;
    }
  }

  return {
    format: "ELF",
    dataStart: buildInfoSection ?? firstWritableLoad,
    goos: await elfGoos(r, head[7] ?? 0, interp, gnuStack),
    goarch: MACHINES[machine]?.(is64, little),
    segmentAt: (addr) => progs.find(addr),
    reader: r,
  };
}

/** Whether the NUL-terminated name at offset in the section name table is ".go.buildinfo". */
function hasName(names: Uint8Array, offset: number): boolean {
  return offset + GO_BUILDINFO.length <= names.length &&
    GO_BUILDINFO.every((b, j) => names[offset + j] === b);
}

/**
 * The program header table, decoded on demand: a file may hold 65,535 headers, and
 * Go's ReadData looks through all of them (every type, not only PT_LOAD) for each read.
 */
class ProgramHeaders {
  #view: DataView;
  #count: number;
  #is64: boolean;
  #little: boolean;

  constructor(table: Uint8Array, count: number, is64: boolean, little: boolean) {
    this.#view = new DataView(table.buffer, table.byteOffset, table.byteLength);
    this.#count = count;
    this.#is64 = is64;
    this.#little = little;
  }

  type(i: number): number {
    return this.#view.getUint32(i * this.#size(), this.#little);
  }

  flags(i: number): number {
    return this.#view.getUint32(i * this.#size() + (this.#is64 ? 4 : 24), this.#little);
  }

  vaddr(i: number): bigint {
    return this.#u(i, 16, 8);
  }

  memsz(i: number): bigint {
    return this.#u(i, 40, 20);
  }

  /** Header i as a segment. */
  at(i: number): Segment {
    return {
      vaddr: this.vaddr(i),
      filesz: this.#u(i, 32, 16),
      offset: toOffset(this.#u(i, 8, 4), "ELF segment offset"),
    };
  }

  /** The first header whose file data holds addr, as Go's ReadData picks it. */
  find(addr: bigint): Segment | undefined {
    // Compare as exact doubles where every value fits in 53 bits (all real files).
    const a = addr <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(addr) : undefined;
    for (let i = 0; i < this.#count; i++) {
      const v = this.#n(i, 16, 8);
      const f = this.#n(i, 32, 16);
      if (a !== undefined && v !== undefined && f !== undefined) {
        if (f > 0 && v <= a && a - v < f) return this.at(i);
        continue;
      }
      const s = this.at(i);
      if (s.filesz > 0n && s.vaddr <= addr && addr < s.vaddr + s.filesz) return s;
    }
    return undefined;
  }

  #size(): number {
    return this.#is64 ? 56 : 32;
  }

  /** A 64-bit (32-bit in ELF32) field as bigint. */
  #u(i: number, at64: number, at32: number): bigint {
    const o = i * this.#size();
    return this.#is64
      ? this.#view.getBigUint64(o + at64, this.#little)
      : BigInt(this.#view.getUint32(o + at32, this.#little));
  }

  /** The same field as a number when it is below 2^53, else undefined. */
  #n(i: number, at64: number, at32: number): number | undefined {
    const o = i * this.#size();
    if (!this.#is64) return this.#view.getUint32(o + at32, this.#little);
    const lo = this.#view.getUint32(o + at64 + (this.#little ? 0 : 4), this.#little);
    const hi = this.#view.getUint32(o + at64 + (this.#little ? 4 : 0), this.#little);
    return hi < 0x200000 ? hi * 0x100000000 + lo : undefined;
  }
}

/**
 * The GOOS an ELF header tells, for binaries without a GOOS build setting (before
 * Go 1.18). Go's linker marks FreeBSD, NetBSD and OpenBSD in EI_OSABI and leaves 0
 * for the others; of those, Linux binaries carry PT_GNU_STACK (Go's linker and the
 * GNU linker write it), Android's name /system/bin/linker as interpreter and
 * DragonFly's /usr/libexec/ld-elf.so.2. Solaris and illumos binaries look alike:
 * undefined, as for anything else.
 */
async function elfGoos(
  r: ReaderAt,
  osabi: number,
  interp: Segment | undefined,
  gnuStack: boolean,
): Promise<string | undefined> {
  const known = OSABIS[osabi];
  if (known !== undefined) return known;
  if (osabi !== 0 && osabi !== 3) return undefined;
  let interpreter = "";
  if (interp !== undefined && interp.filesz > 0n && interp.filesz <= BigInt(MAX_INTERP)) {
    interpreter = cString(await r.read(interp.offset, Number(interp.filesz)));
  }
  if (interpreter.startsWith("/system/bin/linker")) return "android";
  if (interpreter.endsWith("/ld-elf.so.2")) return "dragonfly";
  return gnuStack ? "linux" : undefined;
}
