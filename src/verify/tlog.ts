/**
 * The transparency log's math (golang.org/x/mod/sumdb/tlog, RFC 6962): record and
 * node hashes, tree hashes, tree notes, record responses, tiles of height 8 and
 * their paths, and the plan and check of an authenticated read of hashes through
 * tiles. Consistency of two trees in both directions and record inclusion are
 * expressed with these (see tlog_client.ts); RFC 6962 proofs are here too.
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
import { VerificationError } from "./errors.ts";
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
function maxPow2(n: number): [number, number] {
  let l = 0;
  while (2 ** (l + 1) < n) l++;
  return [2 ** l, l];
}

/** Whether h(coord) exists in a tree of the given size. */
export function coordInTree(coord: HashCoord, size: number): boolean {
  return (coord.n + 1) * 2 ** coord.level <= size;
}

// ---- Tiles ----

/** The path of a tile: `tile/H/L/NNN[.p/W]`, N in 3-digit groups, all but the last with "x". */
export function tilePath(tile: Tile): string {
  let n = tile.n;
  let nStr = String(n % 1000).padStart(3, "0");
  while (n >= 1000) {
    n = Math.floor(n / 1000);
    nStr = `x${String(n % 1000).padStart(3, "0")}/${nStr}`;
  }
  const p = tile.width !== 2 ** tile.height ? `.p/${tile.width}` : "";
  const level = tile.level === -1 ? "data" : String(tile.level);
  return `tile/${tile.height}/${level}/${nStr}${p}`;
}

/**
 * Parses a tile path; only canonical paths are accepted (Go's tlog.ParseTilePath).
 * @throws SyntaxError "Cannot parse tile path ...: malformed tile path"
 */
export function parseTilePath(path: string): Tile {
  const fail = (): never => {
    throw new SyntaxError(`Cannot parse tile path "${path}": malformed tile path`);
  };
  const f = path.split("/");
  if (f.length < 4 || f[0] !== "tile") fail();
  const height = atoi(f[1] ?? "");
  const isData = f[2] === "data";
  const level = isData ? 0 : atoi(f[2] ?? "");
  if (height === undefined || level === undefined || height < 1 || level < 0 || height > 30) {
    fail();
  }
  const h = height ?? 1;
  let width = 2 ** h;
  const dotP = f[f.length - 2] ?? "";
  if (dotP.endsWith(".p")) {
    const w = atoi(f[f.length - 1] ?? "");
    if (w === undefined || w <= 0 || w >= width) fail();
    width = w ?? 1;
    f[f.length - 2] = dotP.slice(0, -2);
    f.pop();
  }
  let n = 0;
  for (const s of f.slice(3)) {
    const nn = atoi(s.startsWith("x") ? s.slice(1) : s);
    if (nn === undefined || nn < 0 || nn >= 1000) fail();
    n = n * 1000 + (nn ?? 0);
  }
  if (!Number.isSafeInteger(n)) fail();
  const tile = { height: h, level: isData ? -1 : level ?? 0, n, width };
  if (tilePath(tile) !== path) fail();
  return tile;
}

/** Go's strconv.Atoi for the values tile paths use: optional sign, decimal digits. */
function atoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : undefined;
}

/**
 * The tile of least width that holds h(coord), and where in it: coord's hash is the
 * tile hash of entries [start, end) (Go's tileForIndex).
 */
export function tileForCoord(
  height: number,
  coord: HashCoord,
): { tile: Tile; start: number; end: number } {
  const level = Math.floor(coord.level / height);
  const k = coord.level - level * height; // level within the tile
  const span = 2 ** k;
  const first = coord.n * span; // index of the first entry at the tile's base level
  const n = Math.floor(first / 2 ** height);
  const start = first - n * 2 ** height;
  return { tile: { height, level, n, width: start + span }, start, end: start + span };
}

/** The hash of a perfect subtree given its 2^k leaf hashes, concatenated (Go's tileHash). */
export function tileHash(data: Uint8Array): Hash {
  if (data.length === 0) throw new RangeError("Cannot hash empty tile data");
  if (data.length === HASH_SIZE) return data.slice();
  const half = data.length / 2;
  return nodeHash(tileHash(data.subarray(0, half)), tileHash(data.subarray(half)));
}

/**
 * Reads h(coord) from tile data; the tile must be the tile of coord (or wider).
 * @throws RangeError when coord is not in the tile or the data is short
 */
export function hashFromTile(tile: Tile, data: Uint8Array, coord: HashCoord): Hash {
  const { tile: t, start, end } = tileForCoord(tile.height, coord);
  if (t.level !== tile.level || t.n !== tile.n || tile.width < t.width) {
    throw new RangeError(`Cannot read hash from ${tilePath(tile)}: it is in ${tilePath(t)}`);
  }
  if (data.length < tile.width * HASH_SIZE) {
    throw new RangeError(`Cannot read hash from ${tilePath(tile)}: data too short`);
  }
  return tileHash(data.subarray(start * HASH_SIZE, end * HASH_SIZE));
}

/**
 * The k-th parent of tile in the tiling of a tree of size treeSize, clipped to the
 * hashes that exist (Go's tileParent); undefined when it has none.
 */
export function tileParent(tile: Tile, k: number, treeSize: number): Tile | undefined {
  const h = tile.height;
  const level = tile.level + k;
  const n = Math.floor(tile.n / 2 ** (k * h));
  const full = 2 ** h;
  const max = Math.floor(treeSize / 2 ** (level * h)); // hashes at the tile's base level
  if (n * full >= max) return undefined;
  return { height: h, level, n, width: Math.min(full, max - n * full) };
}

/**
 * The tiles of a tree (full ones from oldSize on, and the partial edge tiles) that a
 * log publishes when it grows from oldSize to newSize (Go's tlog.NewTiles).
 */
export function newTiles(height: number, oldSize: number, newSize: number): Tile[] {
  const tiles: Tile[] = [];
  const full = 2 ** height;
  for (let level = 0; Math.floor(newSize / 2 ** (height * level)) > 0; level++) {
    const oldN = Math.floor(oldSize / 2 ** (height * level));
    const newN = Math.floor(newSize / 2 ** (height * level));
    if (oldN === newN) continue;
    for (let n = Math.floor(oldN / full); n < Math.floor(newN / full); n++) {
      tiles.push({ height, level, n, width: full });
    }
    const n = Math.floor(newN / full);
    const w = newN - n * full;
    if (w > 0) tiles.push({ height, level, n, width: w });
  }
  return tiles;
}

// ---- Authenticated reading of hashes through tiles ----

/** The tiles to fetch to read some hashes of a tree, authenticated against its root. */
export interface TileReadPlan {
  tree: Tree;
  /** The requested hashes. */
  coords: HashCoord[];
  /** Tiles to fetch, parents before children; the first `rootCount` are the tree's edge tiles. */
  tiles: Tile[];
  /** How many of `tiles` hold the tree's decomposition (authenticated by the root hash). */
  rootCount: number;
}

function tileKey(t: Tile): string {
  return `${t.level}/${t.n}/${t.width}`;
}

/**
 * Plans the tiles needed to read coords authenticated against tree: the edge tiles
 * that hold the tree's decomposition, and for each coord its tile with the chain of
 * full parent tiles up to a planned tile (the plan of Go's TileHashReader).
 * @throws RangeError when a coord is not in the tree
 */
export function planTileReads(
  tree: Tree,
  coords: readonly HashCoord[],
  height = TILE_HEIGHT,
): TileReadPlan {
  const tiles: Tile[] = [];
  const order = new Map<string, number>();
  const add = (t: Tile) => {
    order.set(tileKey(t), tiles.length);
    tiles.push(t);
  };
  if (coords.length === 0) return { tree, coords: [], tiles, rootCount: 0 };
  for (const c of subtreeCoords(0, tree.size)) {
    const t = clip(tileForCoord(height, c).tile, tree.size);
    if (!order.has(tileKey(t))) add(t);
  }
  const rootCount = tiles.length;
  for (const c of coords) {
    if (!Number.isSafeInteger(c.n) || c.n < 0 || c.level < 0 || !coordInTree(c, tree.size)) {
      throw new RangeError(
        `Cannot read hash (${c.level}, ${c.n}): not in the tree of size ${tree.size}`,
      );
    }
    const t = tileForCoord(height, c).tile;
    let k = 0;
    for (;; k++) {
      const p = tileParent(t, k, tree.size);
      if (p === undefined) {
        throw new RangeError(`Cannot plan tiles for tree ${tree.size}: bad math`);
      }
      if (order.has(tileKey(p))) break;
    }
    for (k--; k >= 0; k--) {
      const p = tileParent(t, k, tree.size);
      if (p === undefined || p.width !== 2 ** height) {
        // A tile with a parent tile must be full.
        throw new RangeError(`Cannot plan tiles for tree ${tree.size}: bad math`);
      }
      add(p);
    }
  }
  return { tree, coords: [...coords], tiles, rootCount };
}

function clip(tile: Tile, treeSize: number): Tile {
  const p = tileParent(tile, 0, treeSize);
  if (p === undefined) throw new RangeError(`Cannot clip ${tilePath(tile)}: not in the tree`);
  return p;
}

/**
 * Checks fetched tile data against the plan's tree and returns the requested hashes.
 * The edge tiles must reproduce the tree's root hash, and every other tile must hash
 * to its entry in its parent tile: every tile is checked (Go's TileHashReader skips
 * the checks of some tiles when edge tiles are shared; we do not).
 * @param data one entry per planned tile, exactly `width*32` bytes each
 * @throws VerificationError "downloaded inconsistent tile" when the data does not match
 */
export function authenticateTiles(plan: TileReadPlan, data: readonly Uint8Array[]): Hash[] {
  const { tree, tiles } = plan;
  if (plan.coords.length === 0) return [];
  if (data.length !== tiles.length) {
    throw new RangeError(`Cannot check tiles: ${data.length} tiles for a plan of ${tiles.length}`);
  }
  for (const [i, t] of tiles.entries()) {
    if (data[i]?.length !== t.width * HASH_SIZE) {
      throw new VerificationError(
        `Cannot check ${tilePath(t)}: ${data[i]?.length} bytes, expected ${t.width * HASH_SIZE}`,
      );
    }
  }
  const order = new Map(tiles.map((t, i) => [tileKey(t), i] as const));
  const at = (t: Tile): Uint8Array => {
    const i = order.get(tileKey(t));
    const d = i === undefined ? undefined : data[i];
    if (d === undefined) throw new RangeError(`Cannot check tiles: lost ${tilePath(t)}`);
    return d;
  };
  const height = tiles[0]?.height ?? TILE_HEIGHT;
  const edge = subtreeCoords(0, tree.size).map((c) => {
    const t = clip(tileForCoord(height, c).tile, tree.size);
    return hashFromTile(t, at(t), c);
  });
  if (!hashEqual(foldHashes(edge), tree.hash)) {
    throw new VerificationError(
      `Cannot authenticate tiles against the tree of size ${tree.size}: downloaded inconsistent tile`,
    );
  }
  for (let i = plan.rootCount; i < tiles.length; i++) {
    const t = tiles[i];
    const d = data[i];
    if (t === undefined || d === undefined) continue;
    const p = tileParent(t, 1, tree.size);
    if (p === undefined) throw new RangeError(`Cannot check tiles: ${tilePath(t)} has no parent`);
    const expected = hashFromTile(p, at(p), { level: p.level * height, n: t.n });
    if (!hashEqual(expected, tileHash(d))) {
      throw new VerificationError(
        `Cannot authenticate ${tilePath(t)} against the tree of size ${tree.size}: ` +
          "downloaded inconsistent tile",
      );
    }
  }
  return plan.coords.map((c) => {
    const t = clip(tileForCoord(height, c).tile, tree.size);
    return hashFromTile(t, at(t), c);
  });
}

// ---- RFC 6962 proofs ----

/** The coordinates whose hashes make the proof that record n is in a tree of size t. */
export function recordProofCoords(t: number, n: number): HashCoord[] {
  if (n < 0 || n >= t) throw new RangeError(`Cannot prove record ${n} in a tree of size ${t}`);
  const need: HashCoord[][] = [];
  const walk = (lo: number, hi: number) => {
    if (lo + 1 === hi) return;
    const [k] = maxPow2(hi - lo);
    if (n < lo + k) {
      walk(lo, lo + k);
      need.push(subtreeCoords(lo + k, hi));
    } else {
      need.push(subtreeCoords(lo, lo + k));
      walk(lo + k, hi);
    }
  };
  walk(0, t);
  return need.flat();
}

/** Builds the record proof from the hashes of recordProofCoords(t, n), in order. */
export function recordProof(t: number, n: number, hashes: readonly Hash[]): Hash[] {
  let next = 0;
  const take = (lo: number, hi: number): Hash => {
    const count = subtreeCoords(lo, hi).length;
    const h = foldHashes(hashes.slice(next, next + count));
    next += count;
    return h;
  };
  const walk = (lo: number, hi: number): Hash[] => {
    if (lo + 1 === hi) return [];
    const [k] = maxPow2(hi - lo);
    if (n < lo + k) {
      const p = walk(lo, lo + k);
      return [...p, take(lo + k, hi)];
    }
    const th = take(lo, lo + k);
    return [...walk(lo + k, hi), th];
  };
  return walk(0, t);
}

/** Whether proof shows that the record with leaf hash h is record n of tree (t, th). */
export function checkRecordProof(
  proof: readonly Hash[],
  tree: Tree,
  n: number,
  h: Hash,
): boolean {
  const run = (p: readonly Hash[], lo: number, hi: number): Hash | undefined => {
    if (lo + 1 === hi) return p.length === 0 ? h : undefined;
    const last = p[p.length - 1];
    if (last === undefined) return undefined;
    const [k] = maxPow2(hi - lo);
    if (n < lo + k) {
      const th = run(p.slice(0, -1), lo, lo + k);
      return th && nodeHash(th, last);
    }
    const th = run(p.slice(0, -1), lo + k, hi);
    return th && nodeHash(last, th);
  };
  if (n < 0 || n >= tree.size) return false;
  const th = run(proof, 0, tree.size);
  return th !== undefined && hashEqual(th, tree.hash);
}

/** The coordinates whose hashes make the proof that a tree of size n is a prefix of size t. */
export function treeProofCoords(t: number, n: number): HashCoord[] {
  if (n < 1 || n > t) throw new RangeError(`Cannot prove tree ${n} in a tree of size ${t}`);
  const need: HashCoord[][] = [];
  const walk = (lo: number, hi: number) => {
    if (n === hi) {
      if (lo !== 0) need.push(subtreeCoords(lo, hi));
      return;
    }
    const [k] = maxPow2(hi - lo);
    if (n <= lo + k) {
      walk(lo, lo + k);
      need.push(subtreeCoords(lo + k, hi));
    } else {
      need.push(subtreeCoords(lo, lo + k));
      walk(lo + k, hi);
    }
  };
  walk(0, t);
  return need.flat();
}

/** Builds the consistency proof from the hashes of treeProofCoords(t, n), in order. */
export function treeProof(t: number, n: number, hashes: readonly Hash[]): Hash[] {
  let next = 0;
  const take = (lo: number, hi: number): Hash => {
    const count = subtreeCoords(lo, hi).length;
    const h = foldHashes(hashes.slice(next, next + count));
    next += count;
    return h;
  };
  const walk = (lo: number, hi: number): Hash[] => {
    if (n === hi) return lo === 0 ? [] : [take(lo, hi)];
    const [k] = maxPow2(hi - lo);
    if (n <= lo + k) {
      const p = walk(lo, lo + k);
      return [...p, take(lo + k, hi)];
    }
    const th = take(lo, lo + k);
    return [...walk(lo + k, hi), th];
  };
  return walk(0, t);
}

/** Whether proof shows that tree `older` is a prefix of tree `newer` (RFC 6962 consistency). */
export function checkTreeProof(proof: readonly Hash[], newer: Tree, older: Tree): boolean {
  const n = older.size;
  const run = (p: readonly Hash[], lo: number, hi: number): [Hash, Hash] | undefined => {
    if (n === hi) {
      if (lo === 0) return p.length === 0 ? [older.hash, older.hash] : undefined;
      const only = p[0];
      return p.length === 1 && only ? [only, only] : undefined;
    }
    const last = p[p.length - 1];
    if (last === undefined) return undefined;
    const [k] = maxPow2(hi - lo);
    if (n <= lo + k) {
      const r = run(p.slice(0, -1), lo, lo + k);
      return r && [r[0], nodeHash(r[1], last)];
    }
    const r = run(p.slice(0, -1), lo + k, hi);
    return r && [nodeHash(last, r[0]), nodeHash(last, r[1])];
  };
  if (n < 1 || n > newer.size) return false;
  const r = run(proof, 0, newer.size);
  return r !== undefined && hashEqual(r[0], older.hash) && hashEqual(r[1], newer.hash);
}
