/**
 * The gobuild transparency-log client (ysco's fork of Go's sumdb client): looks up
 * a build by its spec and returns its record only when the log's signed tree vouches
 * for it, and only when that tree is consistent with every tree seen before.
 *
 * - The verifier key is pinned per log name in the cache.
 * - The latest verified signed tree is stored and only moves forward (compare-and-swap).
 * - Every new tree must extend the stored one, every older tree must be a prefix of it;
 *   a contradiction is a SecurityError, reported through `onSecurityError` with both
 *   notes, and the lookup is refused. The client stays usable.
 * - Cached lookups are verified again on use; failures are never cached.
 * - Tiles are authenticated against a signed tree before they are used or cached.
 *
 * Lookups are serialized. All I/O goes through TlogOps.
 *
 * @module
 */

import {
  type BuildRecord,
  type BuildSpec,
  buildSpecKey,
  checkRecordMatches,
  describeSpec,
  parseRecord,
} from "./buildspec.ts";
import { HttpStatusError, SecurityError, VerificationError } from "./errors.ts";
import { openNote } from "./note.ts";
import {
  EMPTY_TREE_HASH,
  foldHashes,
  formatHash,
  type Hash,
  type HashCoord,
  hashEqual,
  parseRecordResponse,
  parseTree,
  recordHash,
  subtreeCoords,
  type Tile,
  TILE_HEIGHT,
  type Tree,
} from "./tlog.ts";
import { authenticateTiles, planTileReads, tilePath } from "./tlog_tiles.ts";
import { treeProof, treeProofCoords } from "./tlog_proofs.ts";
import type { TlogOps } from "./tlog_ops.ts";
import { parseVerifierKey, type VerifierKey } from "./verifier_key.ts";

/** Options for TlogClient. */
export interface TlogClientOptions {
  /** The I/O: HTTP and the cache directory (see httpTlogOps). */
  ops: TlogOps;
  /**
   * Called with each proof of misbehaviour before the lookup fails with it: log its
   * `report` loudly and count it.
   */
  onSecurityError?: (err: SecurityError) => void;
}

/** A record the log vouches for. */
export interface VerifiedRecord {
  /** The record's number in the log. */
  id: number;
  /** The record text as the log holds it (one line, "\n"-terminated). */
  text: string;
  /** The parsed record; it matches the spec asked for. */
  record: BuildRecord;
  /** The verified tree the record was checked against (the latest known). */
  tree: Tree;
  /** Whether the response came from the cache (verified again) instead of the network. */
  cached: boolean;
}

const LOOKUP_LIMIT = 1 << 20;
const FULL_TILE = 2 ** TILE_HEIGHT;

type When = "past" | "now" | "future";

/** A client of one gobuild transparency log. */
export class TlogClient {
  #key: VerifierKey;
  #ops: TlogOps;
  #onSecurityError: ((err: SecurityError) => void) | undefined;
  #latest: Tree = { size: 0, hash: EMPTY_TREE_HASH };
  #latestNote: Uint8Array = new Uint8Array();
  #initialized = false;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * @param verifierKey the log's verifier key, `NAME+HASH+BASE64`
   * @throws SyntaxError for a bad key
   */
  constructor(verifierKey: string, options: TlogClientOptions) {
    this.#key = parseVerifierKey(verifierKey);
    this.#ops = options.ops;
    this.#onSecurityError = options.onSecurityError;
  }

  /** The name of the log's key. */
  get name(): string {
    return this.#key.name;
  }

  /**
   * Looks up the build of spec and verifies its record against the log.
   * @throws SecurityError when the log contradicts a tree seen before
   * @throws VerificationError when the answer does not verify
   * @throws HttpStatusError for an HTTP error (404: gobuild cannot build it; 500: failed or transient)
   * @throws Error for network, timeout and cache errors
   */
  lookup(spec: BuildSpec): Promise<VerifiedRecord> {
    return this.#serialized(() =>
      withContext(
        `Cannot look up ${describeSpec(spec)} in log "${this.#key.name}"`,
        () => this.#lookup(spec),
      )
    );
  }

  /** The latest verified tree and its signed note (after reading the stored one). */
  latest(): Promise<{ tree: Tree; note: string }> {
    return this.#serialized(async () => {
      await this.#init();
      return { tree: this.#latest, note: new TextDecoder().decode(this.#latestNote) };
    });
  }

  #serialized<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(f, f);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #init(): Promise<void> {
    if (this.#initialized) return;
    const name = this.#key.name;
    const pinned = new TextDecoder().decode(await this.#ops.readConfig("key")).trim();
    if (pinned === "") {
      const text = new TextEncoder().encode(this.#key.text + "\n");
      if (!await this.#ops.writeConfig("key", new Uint8Array(), text)) {
        return await this.#init(); // another process pinned a key meanwhile: check it
      }
    } else if (pinned !== this.#key.text) {
      throw new Error(
        `Cannot use verifier key "${this.#key.text}": the cache was made for key "${pinned}" ` +
          `of the same name "${name}"`,
      );
    }
    await this.#mergeLatest(await this.#ops.readConfig(`${name}/latest`), "the stored tree");
    this.#initialized = true;
  }

  async #lookup(spec: BuildSpec): Promise<VerifiedRecord> {
    await this.#init();
    const key = buildSpecKey(spec);
    const file = `${this.#key.name}/lookup/${key.slice(0, -1)}`;
    const cached = await this.#ops.readCache(file);
    if (cached !== undefined) {
      try {
        return await this.#verifyLookup(spec, cached, true);
      } catch (err) {
        // A cached answer that no longer verifies is not trusted; proofs of
        // misbehaviour stand, anything else is asked again.
        if (err instanceof SecurityError) throw err;
      }
    }
    const data = await this.#ops.readRemote(`/lookup/${key}`, LOOKUP_LIMIT);
    const result = await this.#verifyLookup(spec, data, false);
    await this.#ops.writeCache(file, data);
    return result;
  }

  async #verifyLookup(spec: BuildSpec, data: Uint8Array, cached: boolean): Promise<VerifiedRecord> {
    const { id, text, rest } = parseRecordResponse(data);
    await this.#mergeLatest(rest, cached ? "the cached lookup" : "the lookup response");
    await this.#checkRecord(id, text);
    const textString = new TextDecoder().decode(text);
    const record = parseRecord(textString);
    checkRecordMatches(spec, record);
    return { id, text: textString, record, tree: this.#latest, cached };
  }

  /** Merges a signed tree note into the latest tree; stores it when it is newer. */
  async #mergeLatest(msg: Uint8Array, source: string): Promise<void> {
    const when = await this.#mergeLatestMem(msg, source);
    if (when !== "future") return;
    const file = `${this.#key.name}/latest`;
    for (;;) {
      const stored = await this.#ops.readConfig(file);
      if ((await this.#mergeLatestMem(stored, "the stored tree")) !== "past") return;
      if (await this.#ops.writeConfig(file, stored, this.#latestNote)) return;
    }
  }

  async #mergeLatestMem(msg: Uint8Array, source: string): Promise<When> {
    if (msg.length === 0) return this.#latest.size === 0 ? "now" : "past";
    const tree = withContextSync(
      `Cannot verify the signed tree of ${source}`,
      () => parseTree(openNote(msg, this.#key).text),
    );
    for (;;) {
      const latest = this.#latest;
      const latestNote = this.#latestNote;
      if (tree.size <= latest.size) {
        await this.#checkTrees(tree, msg, latest, latestNote, source);
        return tree.size < latest.size ? "past" : "now";
      }
      await this.#checkTrees(latest, latestNote, tree, msg, source);
      if (this.#latest === latest) {
        this.#latest = tree;
        this.#latestNote = msg;
        return "future";
      }
    }
  }

  /**
   * Requires that older is a prefix of newer (reading hashes authenticated against
   * newer). One of them is the trusted latest tree, the other was received from source.
   */
  async #checkTrees(
    older: Tree,
    olderNote: Uint8Array,
    newer: Tree,
    newerNote: Uint8Array,
    source: string,
  ): Promise<void> {
    let h: Hash;
    if (older.size === newer.size) {
      h = newer.hash; // two signed trees of one size must be the same tree
    } else if (older.size === 0) {
      h = EMPTY_TREE_HASH;
    } else {
      const hashes = await withContext(
        `Cannot check that the tree of size ${older.size} is a prefix of the tree of size ${newer.size}`,
        () => this.#readHashes(newer, subtreeCoords(0, older.size)),
      );
      h = foldHashes(hashes);
    }
    if (hashEqual(h, older.hash)) return;
    const receivedIsNewer = newerNote !== this.#latestNote;
    const [trusted, received] = receivedIsNewer ? [older, newer] : [newer, older];
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    const what = older.size === newer.size
      ? `two different signed trees of size ${older.size}`
      : `its signed tree of size ${received.size} from ${source} contradicts its signed tree ` +
        `of size ${trusted.size} seen before`;
    const err = new SecurityError(
      `Cannot trust log "${this.#key.name}": security error: ${what} (misbehaving server)`,
      {
        trustedNote: decode(receivedIsNewer ? olderNote : newerNote),
        receivedNote: decode(receivedIsNewer ? newerNote : olderNote),
        report: await this.#report(older, olderNote, newer, newerNote, h),
      },
    );
    this.#onSecurityError?.(err);
    throw err;
  }

  /** The report of a misbehaviour, in the manner of Go's sumdb client. */
  async #report(
    older: Tree,
    olderNote: Uint8Array,
    newer: Tree,
    newerNote: Uint8Array,
    h: Hash,
  ): Promise<string> {
    const indent = (b: Uint8Array) => new TextDecoder().decode(b).replaceAll("\n", "\n\t");
    let out = "SECURITY ERROR\n" +
      `gobuild transparency log "${this.#key.name}" misbehavior detected!\n\n` +
      `old database:\n\t${indent(olderNote)}\n` +
      `new database:\n\t${indent(newerNote)}\n`;
    if (older.size === newer.size) {
      return out + `proof of misbehavior:\n\ttwo signed trees of size ${older.size} ` +
        `with hashes ${formatHash(older.hash)} and ${formatHash(newer.hash)}`;
    }
    out += `proof of misbehavior:\n\t${formatHash(h)}`;
    if (older.size === 0) return out;
    try {
      const coords = treeProofCoords(newer.size, older.size);
      const proof = treeProof(newer.size, older.size, await this.#readHashes(newer, coords));
      for (const p of proof) out += `\n\t${formatHash(p)}`;
    } catch (err) {
      out += `\n\tinternal error: ${err instanceof Error ? err.message : String(err)}`;
    }
    return out;
  }

  /** Requires that record id of the latest tree has the given text. */
  async #checkRecord(id: number, text: Uint8Array): Promise<void> {
    const latest = this.#latest;
    if (id >= latest.size) {
      throw new VerificationError(
        `Cannot verify record ${id}: not in the verified tree of size ${latest.size}`,
      );
    }
    const [h] = await this.#readHashes(latest, [{ level: 0, n: id }]);
    if (h === undefined || !hashEqual(h, recordHash(text))) {
      throw new VerificationError(
        `Cannot verify record ${id}: cannot authenticate record data in server response`,
      );
    }
  }

  /**
   * Reads hashes of tree through tiles authenticated against its root hash. Tiles
   * come from the cache, else the network; when cached tiles fail to authenticate
   * they are fetched again. New tiles are cached only after authentication.
   */
  async #readHashes(tree: Tree, coords: HashCoord[]): Promise<Hash[]> {
    const plan = planTileReads(tree, coords);
    let tiles = await Promise.all(plan.tiles.map((t) => this.#readTile(t, true)));
    let hashes: Hash[];
    try {
      hashes = authenticateTiles(plan, tiles.map((t) => t.data));
    } catch (err) {
      if (!(err instanceof VerificationError) || !tiles.some((t) => t.cached)) throw err;
      const first = tiles;
      tiles = await Promise.all(plan.tiles.map((t, i) => {
        const read = first[i];
        return read === undefined || read.cached ? this.#readTile(t, false) : read;
      }));
      hashes = authenticateTiles(plan, tiles.map((t) => t.data));
    }
    for (const [i, t] of plan.tiles.entries()) {
      const read = tiles[i];
      if (read !== undefined && !read.cached) {
        await this.#ops.writeCache(`${this.#key.name}/${tilePath(t)}`, read.data);
      }
    }
    return hashes;
  }

  async #readTile(tile: Tile, useCache: boolean): Promise<ReadTile> {
    const name = this.#key.name;
    const size = tile.width * 32;
    const full: Tile = { ...tile, width: FULL_TILE };
    if (useCache) {
      const data = await this.#ops.readCache(`${name}/${tilePath(tile)}`);
      if (data?.length === size) return { data, cached: true };
      if (tile.width !== FULL_TILE) {
        const fullData = await this.#ops.readCache(`${name}/${tilePath(full)}`);
        if (fullData?.length === FULL_TILE * 32) {
          return { data: fullData.subarray(0, size), cached: true };
        }
      }
    }
    try {
      return { data: await this.#fetchTile(tile, size), cached: false };
    } catch (err) {
      // gobuild serves every partial width, but a server may only keep full tiles.
      if (!(err instanceof HttpStatusError) || tile.width === FULL_TILE) throw err;
      try {
        const data = await this.#fetchTile(full, FULL_TILE * 32);
        return { data: data.subarray(0, size), cached: false };
      } catch {
        throw err;
      }
    }
  }

  async #fetchTile(tile: Tile, size: number): Promise<Uint8Array> {
    const data = await this.#ops.readRemote(`/${tilePath(tile)}`, size);
    if (data.length !== size) {
      throw new VerificationError(
        `Cannot use ${tilePath(tile)}: ${data.length} bytes, expected ${size}`,
      );
    }
    return data;
  }
}

interface ReadTile {
  data: Uint8Array;
  cached: boolean;
}

/** Runs f; an error (except a SecurityError) gets context in front of its message, keeping its class. */
async function withContext<T>(context: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw addContext(err, context);
  }
}

function withContextSync<T>(context: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw addContext(err, context);
  }
}

function addContext(err: unknown, context: string): unknown {
  if (!(err instanceof Error) || err instanceof SecurityError) return err;
  const inner = err.message.replace(/^Cannot /, "cannot ");
  err.message = `${context}: ${inner}`;
  return err;
}
