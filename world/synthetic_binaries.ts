/**
 * Hand-made executables for the hostile-input tests and the inspect benchmark,
 * generated in code: 64-bit little-endian ELF files with chosen program headers,
 * and Go build info blobs (inline format) with chosen Go version and module
 * information bytes.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** One ELF64 program header. */
export interface Phdr {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  filesz: number;
  memsz: bigint;
}

export const PT_LOAD = 1;
export const PF_R = 4;
export const PF_W = 2;
/** Where the generated files put their data: the first byte after the program headers, page aligned. */
const PAGE = 0x1000;

/**
 * An ELF64 LE amd64 executable: header, program headers at 64, then `data` placed
 * at each entry's file offset. No section headers.
 */
export function elf64(
  phdrs: readonly Phdr[],
  data: ReadonlyArray<[number, Uint8Array]>,
): Uint8Array {
  const phEnd = 64 + phdrs.length * 56;
  const size = Math.max(phEnd, ...data.map(([off, b]) => off + b.length));
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  v.setUint16(0x10, 2, true); // ET_EXEC
  v.setUint16(0x12, 0x3e, true); // amd64
  v.setUint32(0x14, 1, true);
  v.setBigUint64(0x20, 64n, true); // e_phoff
  v.setUint16(0x34, 64, true);
  v.setUint16(0x36, 56, true);
  v.setUint16(0x38, phdrs.length, true);
  v.setUint16(0x3a, 64, true);
  for (const [i, p] of phdrs.entries()) {
    const o = 64 + i * 56;
    v.setUint32(o, p.type, true);
    v.setUint32(o + 4, p.flags, true);
    v.setBigUint64(o + 8, BigInt(p.offset), true);
    v.setBigUint64(o + 16, p.vaddr, true);
    v.setBigUint64(o + 24, p.vaddr, true);
    v.setBigUint64(o + 32, BigInt(p.filesz), true);
    v.setBigUint64(o + 40, p.memsz, true);
    v.setBigUint64(o + 48, BigInt(PAGE), true);
  }
  for (const [off, b] of data) out.set(b, off);
  return out;
}

const START_SENTINEL = hex("3077af0c9274080241e1c107e6d618e6");
const END_SENTINEL = hex("f932433186182072008242104116d8f2");
const MAGIC = Uint8Array.from([0xff, ...new TextEncoder().encode(" Go buildinf:")]);

function hex(s: string): number[] {
  return (s.match(/../g) ?? []).map((b) => parseInt(b, 16));
}

/** A Go 1.18+ build info blob: the 32-byte header, then the version and the framed module information. */
export function inlineBlob(
  goVersion: Uint8Array | string,
  modInfo: Uint8Array | string,
): Uint8Array {
  const enc = (s: Uint8Array | string) => typeof s === "string" ? new TextEncoder().encode(s) : s;
  const version = enc(goVersion);
  const mod = enc(modInfo);
  const framed = mod.length === 0
    ? mod
    : Uint8Array.from([...START_SENTINEL, ...mod, ...END_SENTINEL]);
  const head = new Uint8Array(32);
  head.set(MAGIC);
  head[14] = 8;
  head[15] = 2;
  return Buffer.concat([head, uvarint(version.length), version, uvarint(framed.length), framed]);
}

function uvarint(n: number): Uint8Array {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Uint8Array.from(bytes);
}

/** A minimal Go binary: one RW segment whose first bytes are blob. */
export function goElf(blob: Uint8Array): Uint8Array {
  return elf64([
    {
      type: PT_LOAD,
      flags: PF_R | PF_W,
      offset: PAGE,
      vaddr: 0x500000n,
      filesz: blob.length,
      memsz: BigInt(blob.length),
    },
  ], [[PAGE, blob]]);
}

/** Module information text of a module build, with extra lines. */
export function modInfoText(extra: readonly string[] = []): string {
  return [
    "path\texample.com/m/cmd/x",
    "mod\texample.com/m\tv1.2.3\th1:abc=",
    "build\t-compiler=gc",
    ...extra,
    "build\tGOARCH=amd64",
    "build\tGOOS=linux",
    "",
  ].join("\n");
}

/**
 * The crafted file of the issue: `count` RW PT_LOAD headers mapping the same page
 * at consecutive addresses, the first one's memsz spanning all of them, and a
 * valid build info blob in the last one only (where Go does not look: it searches
 * the segment that holds the start of the region, not the ones after it).
 */
export function manyLoads(count: number): Uint8Array {
  const base = 0x400000n;
  const size = BigInt(PAGE);
  const blobOffset = 64 + count * 56;
  const blobPage = Math.ceil((blobOffset + 1) / PAGE) * PAGE;
  const phdrs: Phdr[] = [];
  for (let i = 0; i < count; i++) {
    const last = i === count - 1;
    phdrs.push({
      type: PT_LOAD,
      flags: PF_R | PF_W,
      offset: last ? blobPage : 0,
      vaddr: base + BigInt(i) * size,
      filesz: PAGE,
      memsz: i === 0 ? BigInt(count) * size : size,
    });
  }
  return elf64(phdrs, [[blobPage, inlineBlob("go1.23.5", modInfoText())]]);
}
