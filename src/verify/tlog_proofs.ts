/**
 * RFC 6962 proofs over the transparency log's tree: the hashes that prove a record is
 * in a tree, and that a tree extends an older one; their construction and checks.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import {
  foldHashes,
  type Hash,
  type HashCoord,
  hashEqual,
  maxPow2,
  nodeHash,
  subtreeCoords,
  type Tree,
} from "./tlog.ts";

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
