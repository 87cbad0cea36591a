/**
 * The transparency log's Merkle tree (golang.org/x/mod/sumdb/tlog, RFC 6962): record
 * and node hashes, tree hashes, tree notes, record responses and the coordinates of
 * stored hashes. Tiles are in tlog_tiles.ts, RFC 6962 proofs in tlog_proofs.ts;
 * consistency of two trees and record inclusion are expressed with these (see
 * tlog_client.ts).
 *
 * Hashes are addressed by coordinates (level, n): h(level, n) is the hash of the
 * perfect subtree over records [n*2^level, (n+1)*2^level). All index arithmetic
 * uses exact integer multiplication and division on numbers (never JavaScript's
 * 32-bit shift operators), exact for tree sizes up to 2^52.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "./base64.ts";
import { sha256 } from "./hash.ts";

/** A SHA-256 hash, 32 bytes. */
export type Hash = Uint8Array;

/** Size of a hash in bytes. */
export const HASH_SIZE = 32;

/** The largest tree size (and record id + 1) this implementation accepts: 2^52. */
export const MAX_TREE_SIZE = 2 ** 52;

/** The hash of the empty tree, SHA-256 of nothing. */
export const EMPTY_TREE_HASH: Hash = sha256(new Uint8Array());

/** A tree head: its size (number of records) and root hash. */
export interface Tree {
  size: number;
  hash: Hash;
}

/** The coordinates of a hash: h(level, n) covers records [n*2^level, (n+1)*2^level). */
export interface HashCoord {
  level: number;
  n: number;
}

/**
 * A tile: at level `level` of the tiling, the `width` hashes h(height*level, n*2^height + i)
 * for i < width. Level -1 holds record data instead of hashes (path element "data").
 */
export interface Tile {
  height: number;
  level: number;
  n: number;
  width: number;
}

/** The tile height gobuild publishes and clients use. */
export const TILE_HEIGHT = 8;

const TREE_PREFIX = "go.sum database tree\n";

const RECORD_PREFIX = new Uint8Array([0]);
const NODE_PREFIX = new Uint8Array([1]);

/** The hash of a record: SHA-256(0x00 || data). */
export function recordHash(data: Uint8Array): Hash {
  return sha256(RECORD_PREFIX, data);
}

/** The hash of an interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Hash, right: Hash): Hash {
  return sha256(NODE_PREFIX, left, right);
}

/** Whether two hashes are equal. */
export function hashEqual(a: Hash, b: Hash): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A hash in standard base64, as notes and Go's Hash.String show it. */
export function formatHash(h: Hash): string {
  return encodeBase64(h);
}

/**
 * Parses a base64 hash.
 * @throws SyntaxError when it is not 32 bytes of standard base64
 */
export function parseHash(text: string): Hash {
  const h = decodeBase64(text);
  if (h === undefined || h.length !== HASH_SIZE) {
    throw new SyntaxError(`Cannot parse hash "${text}": not 32 bytes of base64`);
  }
  return h;
}

/** The text of a tree note: `go.sum database tree\n<size>\n<hash>\n`. */
export function formatTree(tree: Tree): string {
  return `${TREE_PREFIX}${tree.size}\n${formatHash(tree.hash)}\n`;
}

/**
 * Parses the text of a tree note as Go's tlog.ParseTree (extra lines are allowed).
 * @throws SyntaxError for a malformed tree note
 */
export function parseTree(text: string): Tree {
  const fail = (reason: string): never => {
    throw new SyntaxError(`Cannot parse tree note: malformed tree note (${reason})`);
  };
  if (!text.startsWith(TREE_PREFIX)) fail("wrong first line");
  if (text.split("\n").length - 1 < 3) fail("fewer than 3 lines");
  if (text.length > 1e6) fail("too long");
  const [, sizeText = "", hashText = ""] = text.split("\n", 3);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) fail(`bad size "${sizeText}"`);
  const size = Number(sizeText);
  if (size > MAX_TREE_SIZE) fail(`size ${sizeText} beyond ${MAX_TREE_SIZE}`);
  const hash = decodeBase64(hashText);
  if (hash === undefined || hash.length !== HASH_SIZE) fail("bad hash");
  return { size, hash: hash ?? EMPTY_TREE_HASH };
}

/** A parsed lookup response: the record id, its text, and the rest (the signed tree note). */
export interface RecordResponse {
  id: number;
  text: Uint8Array;
  rest: Uint8Array;
}

/**
 * Parses a lookup response `<id>\n<record text>\n<signed note>` as Go's tlog.ParseRecord.
 * @throws SyntaxError for malformed record data
 */
export function parseRecordResponse(msg: Uint8Array): RecordResponse {
  const fail = (reason: string): never => {
    throw new SyntaxError(`Cannot parse lookup response: malformed record data (${reason})`);
  };
  const nl = msg.indexOf(0x0a);
  if (nl < 0) fail("no id line");
  const idText = new TextDecoder().decode(msg.subarray(0, nl));
  if (!/^[+-]?[0-9]+$/.test(idText)) fail(`bad id "${idText}"`);
  const id = Number(idText);
  if (!Number.isSafeInteger(id) || id < 0) fail(`id "${idText}" out of range`);
  const body = msg.subarray(nl + 1);
  let end = -1;
  for (let i = 0; i + 1 < body.length; i++) {
    if (body[i] === 0x0a && body[i + 1] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end < 0) fail("no blank line after the record");
  const text = body.subarray(0, end + 1);
  if (!isValidRecordText(text)) fail("bad record text");
  return { id, text, rest: body.subarray(end + 2) };
}

/** Formats a lookup response's record part: `<id>\n<text>\n` (text must be valid). */
export function formatRecordResponse(id: number, text: Uint8Array): Uint8Array {
  if (!isValidRecordText(text)) {
    throw new SyntaxError("Cannot format record: malformed record data");
  }
  const head = new TextEncoder().encode(`${id}\n`);
  const out = new Uint8Array(head.length + text.length + 1);
  out.set(head);
  out.set(text, head.length);
  out[out.length - 1] = 0x0a;
  return out;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Valid record text: UTF-8, no control characters but "\n", no blank lines, ends in "\n". */
export function isValidRecordText(text: Uint8Array): boolean {
  try {
    UTF8.decode(text);
  } catch {
    return false;
  }
  let last = -1;
  for (const b of text) {
    if ((b < 0x20 && b !== 0x0a) || (last === 0x0a && b === 0x0a)) return false;
    last = b;
  }
  return last === 0x0a;
}

// ---- Stored hash indexes (the server's storage order; for tests and parity with Go) ----

/**
 * The index at which h(level, n) is stored in a log's hash storage (Go's
 * tlog.StoredHashIndex).
 * @throws RangeError when the index would not be exact
 */
export function storedHashIndex(level: number, n: number): number {
  let m = n;
  for (let l = level; l > 0; l--) m = 2 * m + 1;
  let i = 0;
  for (; m > 0; m = Math.floor(m / 2)) i += m;
  const index = i + level;
  if (!Number.isSafeInteger(index)) {
    throw new RangeError(`Cannot compute stored hash index of (${level}, ${n}): beyond 2^53`);
  }
  return index;
}

/** The coordinates of the hash stored at index (Go's tlog.SplitStoredHashIndex). */
export function splitStoredHashIndex(index: number): HashCoord {
  let n = Math.floor(index / 2);
  let indexN = storedHashIndex(0, n);
  if (indexN > index) throw new RangeError(`Cannot split stored hash index ${index}: bad math`);
  for (;;) {
    const x = indexN + 1 + trailingZeros(n + 1);
    if (x > index) break;
    n++;
    indexN = x;
  }
  const level = index - indexN;
  return { level, n: Math.floor(n / 2 ** level) };
}

/** The number of hashes stored for a tree of size n (Go's tlog.StoredHashCount). */
export function storedHashCount(n: number): number {
  if (n === 0) return 0;
  let count = storedHashIndex(0, n - 1) + 1;
  for (let i = n - 1; i % 2 === 1; i = Math.floor(i / 2)) count++;
  return count;
}

function trailingZeros(x: number): number {
  if (x === 0) return 64;
  let z = 0;
  for (let v = x; v % 2 === 0; v /= 2) z++;
  return z;
}

// ---- Tree hashes ----

/**
 * The coordinates of the perfect subtrees that make up records [lo, hi), largest
 * first: the decomposition of a tree of size hi when lo = 0 (Go's subTreeIndex).
 */
export function subtreeCoords(lo: number, hi: number): HashCoord[] {
  const out: HashCoord[] = [];
  let start = lo;
  while (start < hi) {
    const [k, level] = maxPow2(hi - start + 1);
    if (start % k !== 0) throw new RangeError(`Cannot split records [${lo}, ${hi}): bad math`);
    out.push({ level, n: start / k });
    start += k;
  }
  return out;
}

/** Folds the hashes of a decomposition (largest subtree first) into one hash, from the right. */
export function foldHashes(hashes: readonly Hash[]): Hash {
  let h = hashes[hashes.length - 1];
  if (h === undefined) return EMPTY_TREE_HASH;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i] ?? h, h);
  return h;
}

/** The largest power of two 2^l < n with l (Go's maxpow2): [2^l, l]. */
export function maxPow2(n: number): [number, number] {
  let l = 0;
  while (2 ** (l + 1) < n) l++;
  return [2 ** l, l];
}

/** Whether h(coord) exists in a tree of the given size. */
export function coordInTree(coord: HashCoord, size: number): boolean {
  return (coord.n + 1) * 2 ** coord.level <= size;
}
