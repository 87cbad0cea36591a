/**
 * Tiles of the transparency log (golang.org/x/mod/sumdb/tlog): their paths, the
 * tiles that hold a hash, and the plan and check of an authenticated read of hashes
 * through tiles, anchored at a tree's signed hash.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { VerificationError } from "./errors.ts";
import {
  coordInTree,
  foldHashes,
  type Hash,
  HASH_SIZE,
  type HashCoord,
  hashEqual,
  nodeHash,
  subtreeCoords,
  type Tile,
  TILE_HEIGHT,
  type Tree,
} from "./tlog.ts";

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
