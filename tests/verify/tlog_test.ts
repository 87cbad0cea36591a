import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { goOracle } from "../../world/go.ts";
import { MerkleLog } from "../../world/gobuild_server.ts";
import { encodeBase64 } from "../../src/verify/base64.ts";
import { VerificationError } from "../../src/verify/errors.ts";
import {
  EMPTY_TREE_HASH,
  foldHashes,
  formatHash,
  formatRecordResponse,
  formatTree,
  type Hash,
  type HashCoord,
  nodeHash,
  parseHash,
  parseRecordResponse,
  parseTree,
  recordHash,
  splitStoredHashIndex,
  storedHashCount,
  storedHashIndex,
  subtreeCoords,
  type Tile,
  type Tree,
} from "../../src/verify/tlog.ts";
import {
  authenticateTiles,
  hashFromTile,
  newTiles,
  parseTilePath,
  planTileReads,
  tileForCoord,
  tileHash,
  tilePath,
} from "../../src/verify/tlog_tiles.ts";
import {
  checkRecordProof,
  checkTreeProof,
  recordProof,
  recordProofCoords,
  treeProof,
  treeProofCoords,
} from "../../src/verify/tlog_proofs.ts";
import { A9_BUILDS, A9_H11, A9_LARGE, A9_PROOFS, A9_TILE, A9_TREE_HASHES } from "../../world/a9.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** The synthetic log of Go's oracle: records "record <i>\n". */
const synthetic = (() => {
  const log = new MerkleLog();
  return (n: number): MerkleLog => {
    while (log.size < n) log.append(enc(`record ${log.size}\n`));
    return log;
  };
})();

/** Tree hash computed straight from RFC 6962's definition, without tiles or coords. */
function mth(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_TREE_HASH;
  if (leaves.length === 1) return leaves[0] ?? EMPTY_TREE_HASH;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function tilesOf(log: MerkleLog, plan: { tiles: Tile[] }): Uint8Array[] {
  return plan.tiles.map((t) => log.tile(t.level, t.n, t.width));
}

Deno.test("recordHash() and nodeHash() reproduce the hashes of docs/protocols.md section 3.12", () => {
  const leaves = A9_BUILDS.map((b) => recordHash(enc(b.text)));
  assertEquals(leaves.map(formatHash), A9_BUILDS.map((b) => b.leaf));
  for (let size = 1; size <= 5; size++) {
    const tree = foldHashes(
      subtreeCoords(0, size).map((c) =>
        mth(leaves.slice(c.n * 2 ** c.level, (c.n + 1) * 2 ** c.level))
      ),
    );
    assertEquals(formatHash(tree), A9_TREE_HASHES[size - 1], `size ${size}`);
    assertEquals(formatHash(mth(leaves.slice(0, size))), A9_TREE_HASHES[size - 1]);
  }
  assertEquals(formatHash(mth(leaves.slice(2, 4))), A9_H11);
  assertEquals(
    hex(EMPTY_TREE_HASH),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assertEquals(leaves.map(hex), A9_TILE);
});

Deno.test("tree hashes of the large vector and other sizes agree with docs/protocols.md section 3.12 and Go", async () => {
  const sizes = [1, 2, 3, 7, 8, 255, 256, 257, 511, 65535, 65536, 65537, 70000];
  const log = synthetic(70000);
  const answers = await goOracle(sizes.map((n) => ["tlog.treehash", String(n)]));
  for (const [i, n] of sizes.entries()) {
    const ours = foldHashes(subtreeCoords(0, n).map((c) => log.hash(c.level, c.n)));
    assertEquals(formatHash(ours), answers[i], `size ${n}`);
  }
  assertEquals(formatHash(log.treeHash(A9_LARGE.size)), A9_LARGE.hash);
});

Deno.test("storedHashIndex() matches docs/protocols.md section 3.8 and Go's tlog, beyond 2^32", async () => {
  const rows: Array<[number, number, number]> = [
    // level, n, index (docs/protocols.md section 3.8)
    [0, 0, 0],
    [0, 1, 1],
    [1, 0, 2],
    [0, 2, 3],
    [0, 3, 4],
    [1, 1, 5],
    [2, 0, 6],
    [0, 4, 7],
    [0, 1000, 1994],
    [8, 0, 510],
    [0, 256, 511],
  ];
  for (const [level, n, index] of rows) {
    assertEquals(storedHashIndex(level, n), index);
    assertEquals(splitStoredHashIndex(index), { level, n });
  }
  assertEquals([1, 2, 3, 4, 5, 6, 7, 8].map(storedHashCount), [1, 3, 4, 7, 8, 10, 11, 15]);
  assertEquals(storedHashCount(70000), 139994);

  const coords: Array<[number, number]> = [
    [0, 2 ** 32],
    [0, 2 ** 32 + 1],
    [3, 2 ** 33 + 7],
    [0, 2 ** 40 + 12345],
    [17, 2 ** 30 - 1],
    [40, 3],
    [0, 2 ** 50 - 1],
  ];
  const counts = [2 ** 32, 2 ** 32 + 1, 2 ** 41 + 3, 2 ** 51 - 5];
  const answers = await goOracle([
    ...coords.map(([l, n]) => ["tlog.storedhashindex", String(l), String(n)]),
    ...counts.map((n) => ["tlog.storedhashcount", String(n)]),
  ]);
  for (const [i, [l, n]] of coords.entries()) {
    const index = storedHashIndex(l, n);
    assertEquals(String(index), answers[i], `(${l}, ${n})`);
    assertEquals(splitStoredHashIndex(index), { level: l, n });
  }
  for (const [i, n] of counts.entries()) {
    assertEquals(String(storedHashCount(n)), answers[coords.length + i], `count ${n}`);
  }
});

Deno.test("tilePath() and parseTilePath() match docs/protocols.md section 3.9 and Go, beyond 2^32", async () => {
  const rows: Array<[Tile, string]> = [
    [{ height: 8, level: 0, n: 0, width: 5 }, "tile/8/0/000.p/5"],
    [{ height: 8, level: 0, n: 1234067, width: 256 }, "tile/8/0/x001/x234/067"],
    [{ height: 8, level: 1, n: 3, width: 17 }, "tile/8/1/003.p/17"],
    [{ height: 8, level: -1, n: 2, width: 256 }, "tile/8/data/002"],
    [{ height: 8, level: -1, n: 0, width: 5 }, "tile/8/data/000.p/5"],
    [{ height: 3, level: 4, n: 1234067, width: 1 }, "tile/3/4/x001/x234/067.p/1"],
    [{ height: 8, level: 0, n: 2 ** 40 + 5, width: 256 }, "tile/8/0/x001/x099/x511/x627/781"],
  ];
  for (const [tile, path] of rows) {
    assertEquals(tilePath(tile), path);
    assertEquals(parseTilePath(path), tile);
  }
  const tiles: Tile[] = [
    ...rows.map(([t]) => t),
    { height: 8, level: 2, n: 2 ** 33 + 999, width: 255 },
    { height: 30, level: 1, n: 7, width: 2 ** 29 },
    { height: 1, level: 63, n: 2 ** 45, width: 1 },
  ];
  const paths = [
    ...rows.map(([, p]) => p),
    "tile/8/0/00.p/5", // not three digits
    "tile/8/0/000.p/256", // full width written as partial
    "tile/8/0/000.p/0",
    "tile/8/0/x000/001", // leading zero group
    "tile/8/00/001",
    "tile/31/0/001",
    "tile/0/0/001",
    "tile/8/-1/001",
    "tile/8/0/1000",
    "tile/8/0/x1/001",
    "tile/8/0",
    "tiles/8/0/000",
    "tile/8/data/x002/000.p/1",
    "tile/+8/0/000",
  ];
  const answers = await goOracle([
    ...tiles.map((
      t,
    ) => ["tlog.tilepath", String(t.height), String(t.level), String(t.n), String(t.width)]),
    ...paths.map((p) => ["tlog.parsetilepath", p]),
  ]);
  for (const [i, t] of tiles.entries()) assertEquals(tilePath(t), answers[i]);
  for (const [i, p] of paths.entries()) {
    const go = answers[tiles.length + i] ?? "";
    let ours: string;
    try {
      const t = parseTilePath(p);
      ours = `${t.height} ${t.level} ${t.n} ${t.width}`;
    } catch (err) {
      assert(err instanceof SyntaxError);
      ours = "error";
    }
    assertEquals(ours, go.startsWith("error") ? "error" : go, p);
  }
});

Deno.test("tileForCoord() and newTiles() match Go's TileForIndex and NewTiles", async () => {
  const coords: HashCoord[] = [
    { level: 0, n: 0 },
    { level: 0, n: 1000 },
    { level: 3, n: 77 },
    { level: 8, n: 0 },
    { level: 9, n: 5 },
    { level: 15, n: 2 ** 20 + 3 },
    { level: 16, n: 1 },
    { level: 0, n: 2 ** 40 + 17 },
    { level: 21, n: 2 ** 28 + 1 },
  ];
  const grow: Array<[number, number]> = [[0, 5], [3, 5], [5, 300], [0, 70000], [65536, 70000], [
    2 ** 32 - 3,
    2 ** 32 + 600,
  ]];
  const answers = await goOracle([
    ...coords.map((c) => ["tlog.tileforindex", "8", String(storedHashIndex(c.level, c.n))]),
    ...grow.map(([a, b]) => ["tlog.newtiles", "8", String(a), String(b)]),
  ]);
  for (const [i, c] of coords.entries()) {
    assertEquals(tilePath(tileForCoord(8, c).tile), answers[i], JSON.stringify(c));
  }
  for (const [i, [a, b]] of grow.entries()) {
    assertEquals(
      newTiles(8, a, b).map(tilePath).join(" "),
      answers[coords.length + i],
      `${a}->${b}`,
    );
  }
});

Deno.test("planTileReads() plans the tiles of the examples of docs/protocols.md section 3.10", () => {
  const tree = (size: number): Tree => ({ size, hash: EMPTY_TREE_HASH });
  const plan = (size: number, coords: HashCoord[]) =>
    planTileReads(tree(size), coords).tiles.map(tilePath);
  const root70000 = ["tile/8/2/000.p/1", "tile/8/1/001.p/17", "tile/8/0/273.p/112"];
  const rows: Array<[number, HashCoord[], string[]]> = [
    // Tree 5: record 3, or consistency 3 -> 5.
    [5, [{ level: 0, n: 3 }], ["tile/8/0/000.p/5"]],
    [5, subtreeCoords(0, 3), ["tile/8/0/000.p/5"]],
    // Tree 70000: records 1000, 65535, 69999; consistency with 1000 and 65536.
    [70000, [{ level: 0, n: 1000 }], [...root70000, "tile/8/1/000", "tile/8/0/003"]],
    [70000, [{ level: 0, n: 65535 }], [...root70000, "tile/8/1/000", "tile/8/0/255"]],
    [70000, [{ level: 0, n: 69999 }], root70000],
    [70000, subtreeCoords(0, 1000), [...root70000, "tile/8/1/000", "tile/8/0/003"]],
    [70000, subtreeCoords(0, 65536), root70000],
  ];
  for (const [size, coords, tiles] of rows) assertEquals(plan(size, coords), tiles);
  assertThrows(() => planTileReads(tree(5), [{ level: 0, n: 5 }]), RangeError);
  assertThrows(() => planTileReads(tree(5), [{ level: 1, n: 2 }]), RangeError);
  assertEquals(planTileReads(tree(0), []).tiles, []);
});

Deno.test("planTileReads() plans the same tiles as Go's TileHashReader, beyond 2^32", async () => {
  const cases: Array<[number, HashCoord]> = [];
  const sizes = [
    1,
    2,
    255,
    256,
    257,
    65536,
    65537,
    70000,
    16777216 + 65536 * 3 + 7,
    2 ** 32,
    2 ** 32 + 1,
    2 ** 40 + 2 ** 33 + 65536 * 5 + 300,
    2 ** 50 + 12345,
  ];
  for (const size of sizes) {
    for (const n of [0, 1, Math.floor(size / 3), Math.floor(size / 2), size - 1]) {
      if (n < size) cases.push([size, { level: 0, n }]);
    }
    for (const level of [1, 7, 8, 9, 16, 20, 33]) {
      const count = Math.floor(size / 2 ** level);
      if (count > 0) cases.push([size, { level, n: count - 1 }], [size, { level, n: 0 }]);
    }
  }
  const answers = await goOracle(
    cases.map(([size, c]) => ["tlog.plan", String(size), String(c.level), String(c.n)]),
  );
  for (const [i, [size, c]] of cases.entries()) {
    const ours = planTileReads({ size, hash: EMPTY_TREE_HASH }, [c]).tiles.map(tilePath).join(" ");
    assertEquals(ours, answers[i], `tree ${size}, (${c.level}, ${c.n})`);
  }
});

Deno.test("authenticateTiles() returns authenticated hashes and rejects any changed tile", async () => {
  const log = synthetic(70000);
  const tree = { size: 70000, hash: log.treeHash(70000) };
  for (const n of [0, 1000, 65535, 69999]) {
    const plan = planTileReads(tree, [{ level: 0, n }]);
    const data = tilesOf(log, plan);
    assertEquals(authenticateTiles(plan, data), [log.hash(0, n)]);
    for (const [i, t] of plan.tiles.entries()) {
      const bad = data.map((d, j) => j === i ? d.map((b) => b ^ 1) : d);
      assertThrows(
        () => authenticateTiles(plan, bad),
        { name: "VerificationError", message: /downloaded inconsistent tile/ },
        `record ${n}, ${tilePath(t)}`,
      );
    }
    const short = data.map((d, j) => j === 0 ? d.subarray(0, d.length - 32) : d);
    assertThrows(() => authenticateTiles(plan, short), VerificationError);
  }
  // Go's TileHashReader checks fewer tiles than it plans when edge tiles are shared:
  // it returns a forged hash for record 1000 when tile/8/0/003 is changed. We do not.
  const [genuine, forged] = await goOracle([
    ["tlog.readhash", "70000", "0", "1000"],
    ["tlog.readhash", "70000", "0", "1000", "tile/8/0/003"],
  ]);
  assertEquals(genuine, `ok ${formatHash(log.hash(0, 1000))}`);
  assert(forged?.startsWith("ok ") && forged !== genuine, `Go accepted the forged tile: ${forged}`);
});

Deno.test("tree hashes read through tiles prove consistency in both directions", () => {
  const log = synthetic(70000);
  const read = (tree: Tree, coords: HashCoord[]) => {
    const plan = planTileReads(tree, coords);
    return authenticateTiles(plan, tilesOf(log, plan));
  };
  const newer = { size: 70000, hash: log.treeHash(70000) };
  for (const old of [1, 3, 255, 256, 1000, 65536, 69999, 70000]) {
    // The older tree's hash, computed from tiles authenticated against the newer one.
    assertEquals(foldHashes(read(newer, subtreeCoords(0, old))), log.treeHash(old), `old ${old}`);
  }
  const forked = MerkleLog.of(
    log.records.slice(0, 70000).map((r, i) => i === 500 ? enc("x\n") : r),
  );
  const forkedTree = { size: 70000, hash: forked.treeHash(70000) };
  const plan = planTileReads(forkedTree, subtreeCoords(0, 1000));
  const fromFork = foldHashes(authenticateTiles(plan, tilesOf(forked, plan)));
  assert(formatHash(fromFork) !== formatHash(log.treeHash(1000)), "a fork shows in the old hash");
});

Deno.test("RFC 6962 proofs match docs/protocols.md section 3.12 and Go's tlog", async () => {
  const leaves = A9_BUILDS.map((b) => recordHash(enc(b.text)));
  const a9 = MerkleLog.of(A9_BUILDS.map((b) => enc(b.text)));
  const get = (log: MerkleLog, coords: HashCoord[]) => coords.map((c) => log.hash(c.level, c.n));
  const tree5 = { size: 5, hash: parseHash(A9_TREE_HASHES[4] ?? "") };
  const tree3 = { size: 3, hash: parseHash(A9_TREE_HASHES[2] ?? "") };
  const p3 = recordProof(5, 3, get(a9, recordProofCoords(5, 3)));
  assertEquals(p3.map(formatHash), A9_PROOFS.record3);
  assert(checkRecordProof(p3, tree5, 3, leaves[3] ?? EMPTY_TREE_HASH));
  assert(!checkRecordProof(p3, tree5, 2, leaves[3] ?? EMPTY_TREE_HASH));
  const t3 = treeProof(5, 3, get(a9, treeProofCoords(5, 3)));
  assertEquals(t3.map(formatHash), A9_PROOFS.tree3);
  assert(checkTreeProof(t3, tree5, tree3));
  assert(!checkTreeProof(t3, tree5, { size: 3, hash: leaves[0] ?? EMPTY_TREE_HASH }));

  const log = synthetic(70000);
  const pairs: Array<[number, number]> = [
    [1, 0],
    [2, 1],
    [7, 3],
    [256, 255],
    [257, 256],
    [
      70000,
      1000,
    ],
    [70000, 65535],
    [70000, 69999],
    [65537, 12],
  ];
  const answers = await goOracle([
    ...pairs.map(([t, n]) => ["tlog.proverecord", String(t), String(n)]),
    ...pairs.map(([t, n]) => ["tlog.provetree", String(t), String(n + 1)]),
  ]);
  for (const [i, [t, n]] of pairs.entries()) {
    const tree = { size: t, hash: log.treeHash(t) };
    const rp = recordProof(t, n, get(log, recordProofCoords(t, n)));
    assertEquals(rp.map(formatHash).join(" "), answers[i], `record ${n} in ${t}`);
    assert(checkRecordProof(rp, tree, n, log.hash(0, n)));
    const tp = treeProof(t, n + 1, get(log, treeProofCoords(t, n + 1)));
    assertEquals(tp.map(formatHash).join(" "), answers[pairs.length + i], `tree ${n + 1} in ${t}`);
    assert(checkTreeProof(tp, tree, { size: n + 1, hash: log.treeHash(n + 1) }));
  }
});

Deno.test("parseTree() and parseRecordResponse() agree with Go", async () => {
  const h = formatHash(recordHash(enc("x")));
  const trees = [
    `go.sum database tree\n5\n${h}\n`,
    `go.sum database tree\n5\n${h}\nextra line\n`,
    `go.sum database tree\n05\n${h}\n`,
    `go.sum database tree\n-5\n${h}\n`,
    `go.sum database tree\n+5\n${h}\n`,
    `go.sum database tree\n5\n${h}`,
    `go.sum database tree\n5\n${h.slice(0, -2)}\n`,
    `go.sum database trees\n5\n${h}\n`,
    `go.sum database tree\n4503599627370496\n${h}\n`,
  ];
  const responses = [
    "3\nrecord\n\nnote\n",
    "+3\nrecord\n\nnote\n",
    "003\nrecord\n\n",
    "3\nrecord\nmore\n\nnote\n\nmore\n",
    "3\nrecord\n",
    "x\nrecord\n\nnote",
    "3\n\n\nnote",
    "3\nrec\tord\n\nnote",
    "\nrecord\n\n",
  ];
  const answers = await goOracle([
    ...trees.map((t) => ["tlog.parsetree", encodeBase64(enc(t))]),
    ...responses.map((r) => ["tlog.parserecord", encodeBase64(enc(r))]),
  ]);
  for (const [i, t] of trees.entries()) {
    let ours: string;
    try {
      const tree = parseTree(t);
      ours = `${tree.size} ${formatHash(tree.hash)}`;
    } catch {
      ours = "error";
    }
    const go = answers[i] ?? "";
    assertEquals(ours, go.startsWith("error") ? "error" : go, JSON.stringify(t));
  }
  for (const [i, r] of responses.entries()) {
    let ours: string;
    try {
      const p = parseRecordResponse(enc(r));
      ours = `${p.id} ${encodeBase64(p.text)} ${encodeBase64(p.rest)}`;
    } catch {
      ours = "error";
    }
    const go = answers[trees.length + i] ?? "";
    assertEquals(ours, go.startsWith("error") ? "error" : go, JSON.stringify(r));
  }
  const tree = { size: 70000, hash: parseHash(A9_LARGE.hash) };
  assertEquals(parseTree(formatTree(tree)), tree);
  assertEquals(new TextDecoder().decode(formatRecordResponse(7, enc("a b\n"))), "7\na b\n\n");
});

Deno.test("hashFromTile() and tileHash() read perfect subtrees inside tiles", () => {
  const log = synthetic(512);
  const tile = { height: 8, level: 0, n: 1, width: 256 };
  const data = log.tile(0, 1, 256);
  assertEquals(hashFromTile(tile, data, { level: 0, n: 300 }), log.hash(0, 300));
  assertEquals(hashFromTile(tile, data, { level: 4, n: 17 }), log.hash(4, 17));
  assertEquals(tileHash(data), log.hash(8, 1));
  assertThrows(() => hashFromTile(tile, data, { level: 0, n: 3 }), RangeError);
});
