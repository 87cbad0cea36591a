/**
 * A test gobuild server: a real HTTP server on 127.0.0.1 speaking gobuild's
 * protocol (docs/protocols.md sections 3.4 and 5.2), for real binaries built by real Go toolchains.
 *
 * - `GET /tlog/latest`: the signed tree note;
 * - `GET /tlog/lookup/<key>`: `<id>\n<record>\n` + the signed tree note;
 * - `GET /tlog/tile/8/<L>/<N>[.p/<W>]`: hash tiles (any width up to what exists),
 *   `GET /tlog/tile/8/data/<N>[.p/<W>]`: data tiles in gobuild's format;
 * - `GET /<key without trailing slash>/<sum>/<file>.gz`: the gzipped binary.
 *
 * The log is signed with the test key of docs/protocols.md section 3.12 (deterministic signatures),
 * so that that worked example is reproduced byte for byte. Builds and raw records can be
 * added while it runs. Knobs make it misbehave: a forked history, a shrinking tree,
 * bad or foreign signatures, a record for another spec, wrong sums and sizes in the
 * record, broken gzip, hangs, stalls, 500s and endless bodies.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { encodeBase64Url } from "../src/verify/base64.ts";
import {
  type BuildRecord,
  type BuildSpec,
  buildSpecKey,
  formatRecord,
  parseRecord,
  versionFileName,
} from "../src/verify/buildspec.ts";
import {
  parseSignerKey,
  signerFromSeed,
  type SignerKey,
  signNote,
  verifierKeyOf,
} from "../src/verify/note.ts";
import {
  EMPTY_TREE_HASH,
  foldHashes,
  formatRecordResponse,
  formatTree,
  type Hash,
  HASH_SIZE,
  nodeHash,
  recordHash,
  subtreeCoords,
  type Tree,
} from "../src/verify/tlog.ts";
import { parseTilePath } from "../src/verify/tlog_tiles.ts";

/** The test signer key of docs/protocols.md section 3.12 (where it comes from: section 5.1). */
export const TEST_SIGNER_KEY =
  "PRIVATE+KEY+localhost+7f833345+AUFoxzns2gqjFnp6FEw9J69gRmgOMemUTYRpl5H9avYZ";
/** The verifier key of TEST_SIGNER_KEY. */
export const TEST_VERIFIER_KEY = "localhost+7f833345+ARbs+7AvMjM6pK7XBKzOYcR4Ko6TXOO0TvTxBnYHKgJi";

/** The server's routes, for faults. */
export type Route = "latest" | "lookup" | "tile" | "download";

/**
 * A misbehaviour of one route:
 * - "hang": no answer at all until the server closes;
 * - "stall": status and half the body, then nothing until the server closes;
 * - "status500", "status404": that status with a text body;
 * - "endless": 200 and a body that never ends (for downloads: a valid gzip stream of
 *   endless random data);
 * - "truncate": 200 and only the first half of the body;
 * - "corrupt": 200 and one byte changed (lookups: the record text; tiles: a hash;
 *   downloads: the middle of the gzip data).
 */
export type Fault =
  | "hang"
  | "stall"
  | "status500"
  | "status404"
  | "endless"
  | "truncate"
  | "corrupt";

/**
 * How tree notes are signed:
 * - "good": by the server's key;
 * - "bad": by the server's key, with a byte of the signature changed;
 * - "foreign": by another key with another name only;
 * - "other-hash": by another key with the same name (so another key hash) only;
 * - "also-unknown": by the server's key and by an unknown key.
 */
export type SignatureMode = "good" | "bad" | "foreign" | "other-hash" | "also-unknown";

/** One request the server answered. */
export interface RequestRecord {
  route: Route | "other";
  path: string;
  status: number;
  /** Body bytes sent (for streamed bodies: what was produced before the end or cancel). */
  bytes: number;
}

/** A build added with addBuild. */
export interface AddedBuild {
  id: number;
  spec: BuildSpec;
  record: BuildRecord;
  /** The record text as logged. */
  text: string;
  /** The lookup key. */
  key: string;
  /** SHA-256 of the binary, hex. */
  sha256: string;
  /** The URL of the gzipped binary. */
  url: string;
}

/** Options for startGobuildServer. */
export interface GobuildServerOptions {
  /** @default TEST_SIGNER_KEY */
  signerKey?: string;
}

/** Deferred promise that resolves when the server closes. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}

/** Hash storage of a Merkle log: h(level, n) in one growing buffer per level. */
export class MerkleLog {
  /** The record texts. */
  records: Uint8Array[] = [];
  #levels: { buf: Uint8Array; count: number }[] = [];

  /** The number of records. */
  get size(): number {
    return this.records.length;
  }

  /** Appends a record; returns its id. */
  append(text: Uint8Array): number {
    const id = this.records.length;
    this.records.push(text);
    let h = recordHash(text);
    this.#push(0, h);
    let level = 0;
    let n = id;
    while (n % 2 === 1) {
      h = nodeHash(this.hash(level, n - 1), h);
      level++;
      n = (n - 1) / 2;
      this.#push(level, h);
    }
    return id;
  }

  #push(level: number, h: Hash) {
    let l = this.#levels[level];
    if (l === undefined) {
      l = { buf: new Uint8Array(64 * HASH_SIZE), count: 0 };
      this.#levels[level] = l;
    }
    if ((l.count + 1) * HASH_SIZE > l.buf.length) {
      const bigger = new Uint8Array(l.buf.length * 2);
      bigger.set(l.buf);
      l.buf = bigger;
    }
    l.buf.set(h, l.count * HASH_SIZE);
    l.count++;
  }

  /** h(level, n). */
  hash(level: number, n: number): Hash {
    const l = this.#levels[level];
    if (l === undefined || n >= l.count) throw new RangeError(`no hash (${level}, ${n})`);
    return l.buf.subarray(n * HASH_SIZE, (n + 1) * HASH_SIZE);
  }

  /** The hash of the tree of the first size records. */
  treeHash(size: number): Hash {
    if (size === 0) return EMPTY_TREE_HASH;
    return foldHashes(subtreeCoords(0, size).map((c) => this.hash(c.level, c.n)));
  }

  /** Hashes h(8L, N*256 + i), i < W, concatenated. */
  tile(level: number, n: number, width: number): Uint8Array {
    const out = new Uint8Array(width * HASH_SIZE);
    for (let i = 0; i < width; i++) out.set(this.hash(8 * level, n * 256 + i), i * HASH_SIZE);
    return out;
  }

  /** A log of the given records. */
  static of(records: readonly Uint8Array[]): MerkleLog {
    const log = new MerkleLog();
    for (const r of records) log.append(r);
    return log;
  }
}

/** The test gobuild server. Close it with `await using` or close(). */
export class GobuildServer implements AsyncDisposable {
  /** Base URL, e.g. "http://127.0.0.1:43567". */
  readonly url: string;
  /** The tlog base URL: url + "/tlog". */
  readonly tlogUrl: string;
  /** The verifier key clients use. */
  readonly verifierKey: string;
  /** Misbehaviour per route; empty: a correct server. */
  faults: Partial<Record<Route, Fault>> = {};
  /** How tree notes are signed. */
  signature: SignatureMode = "good";
  /** Every answered request, in order. */
  readonly requests: RequestRecord[] = [];
  /** Called before each request is answered (e.g. to add a record on every lookup). */
  onRequest: ((route: Route | "other") => void) | undefined = undefined;

  #server: Deno.HttpServer<Deno.NetAddr>;
  #signer: SignerKey;
  #log = new MerkleLog();
  #builds = new Map<string, number>(); // lookup key -> record id
  #downloads = new Map<string, { gz: string; id: number }>(); // URL path -> gzipped binary
  #lookupOverrides = new Map<string, number>();
  #notes = new Map<string, Uint8Array>();
  #dir: string;
  #closed = deferred();
  #isClosed = false;

  /** Use startGobuildServer. */
  constructor(server: Deno.HttpServer<Deno.NetAddr>, signer: SignerKey, dir: string) {
    this.#server = server;
    this.#signer = signer;
    this.#dir = dir;
    this.url = `http://127.0.0.1:${server.addr.port}`;
    this.tlogUrl = `${this.url}/tlog`;
    this.verifierKey = verifierKeyOf(signer);
  }

  /** The number of records in the log. */
  get size(): number {
    return this.#log.size;
  }

  /** The current tree. */
  tree(): Tree {
    return { size: this.#log.size, hash: this.#log.treeHash(this.#log.size) };
  }

  /** The record texts, in log order. */
  records(): string[] {
    return this.#log.records.map((r) => new TextDecoder().decode(r));
  }

  /** h(level, n) of the current log. */
  hash(level: number, n: number): Hash {
    return this.#log.hash(level, n);
  }

  /** The hash of the first `size` records of the current log. */
  treeHash(size: number): Hash {
    return this.#log.treeHash(size);
  }

  /** The signed note of the current tree (as signed in the current signature mode). */
  latestNote(): Uint8Array {
    return this.#note(this.tree());
  }

  /** Appends a raw record text (which must end in "\n"); returns its id. Lookups find it when it parses. */
  addRecord(text: string): number {
    const bytes = new TextEncoder().encode(text);
    const id = this.#log.append(bytes);
    try {
      this.#builds.set(buildSpecKey(parseRecord(text)), id);
    } catch {
      // not a build record: only in the log
    }
    return id;
  }

  /**
   * Adds a build: its record (computed from the binary's bytes, or with the given
   * overrides) to the log and the gzipped binary to the downloads.
   * @param binary the binary's bytes, or the path of a file
   */
  async addBuild(
    spec: BuildSpec,
    binary: Uint8Array | string,
    overrides: { size?: number; sum?: string } = {},
  ): Promise<AddedBuild> {
    const hash = createHash("sha256");
    let size = 0;
    const source = () =>
      typeof binary === "string"
        ? Deno.open(binary).then((f) => f.readable)
        : Promise.resolve(new Blob([binary.slice()]).stream());
    for await (const chunk of await source()) {
      hash.update(chunk);
      size += chunk.length;
    }
    const digest = new Uint8Array(hash.digest());
    const record: BuildRecord = {
      ...spec,
      size: overrides.size ?? size,
      sum: overrides.sum ?? "0" + encodeBase64Url(digest.subarray(0, 20)),
    };
    const text = formatRecord(record);
    const id = this.addRecord(text);
    const gz = join(this.#dir, `${id}-${crypto.randomUUID()}.gz`);
    const out = await Deno.open(gz, { write: true, createNew: true });
    await (await source()).pipeThrough(new CompressionStream("gzip")).pipeTo(out.writable);
    const key = buildSpecKey(record);
    const path = `/${key}${record.sum}/${versionFileName(record)}.gz`;
    this.#downloads.set(path, { gz, id });
    const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    return { id, spec, record, text, key, sha256, url: this.url + path };
  }

  /** Makes lookups of spec answer with record id (e.g. a record for another spec). */
  answerLookup(spec: BuildSpec, id: number): void {
    this.#lookupOverrides.set(buildSpecKey(spec), id);
  }

  /**
   * Forks the history: record `index` gets another text, every hash after it changes,
   * and the tree keeps its size. The server signs the new tree as if nothing happened.
   */
  fork(index: number, text: string): void {
    const records = [...this.#log.records];
    records[index] = new TextEncoder().encode(text);
    this.#log = MerkleLog.of(records);
  }

  /** Shrinks the log to its first `size` records (a server that lost records). */
  truncate(size: number): void {
    this.#log = MerkleLog.of(this.#log.records.slice(0, size));
    for (const [key, id] of this.#builds) if (id >= size) this.#builds.delete(key);
  }

  /** Closes the server; hanging and endless answers end. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closed.resolve();
    await this.#server.shutdown();
    await Deno.remove(this.#dir, { recursive: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #note(tree: Tree): Uint8Array {
    const text = formatTree(tree);
    const cacheKey = `${this.signature}\n${text}`;
    let note = this.#notes.get(cacheKey);
    if (note !== undefined) return note;
    switch (this.signature) {
      case "good":
        note = signNote(text, [this.#signer]);
        break;
      case "bad": {
        note = signNote(text, [this.#signer]);
        const s = new TextDecoder().decode(note);
        // Change one base64 character of the signature (after the key hash).
        const at = s.lastIndexOf(" ") + 12;
        const c = s[at] === "A" ? "B" : "A";
        note = new TextEncoder().encode(s.slice(0, at) + c + s.slice(at + 1));
        break;
      }
      case "foreign":
        note = signNote(text, [otherSigner("elsewhere")]);
        break;
      case "other-hash":
        note = signNote(text, [otherSigner(this.#signer.name)]);
        break;
      case "also-unknown":
        note = signNote(text, [otherSigner("witness"), this.#signer]);
        break;
    }
    this.#notes.set(cacheKey, note);
    return note;
  }

  /** Handles one request. */
  async handle(req: Request): Promise<Response> {
    const path = decodeURIComponent(new URL(req.url).pathname);
    const route: Route | "other" = path === "/tlog/latest"
      ? "latest"
      : path.startsWith("/tlog/lookup/")
      ? "lookup"
      : path.startsWith("/tlog/tile/")
      ? "tile"
      : this.#downloads.has(path)
      ? "download"
      : "other";
    const log = (status: number, bytes: number) =>
      this.requests.push({ route, path, status, bytes });
    if (req.method !== "GET") return this.#text(log, 405, "method not allowed\n");
    this.onRequest?.(route);
    const fault = route === "other" ? undefined : this.faults[route];
    if (fault === "hang") {
      await this.#closed.promise;
      return this.#text(log, 503, "closing\n");
    }
    if (fault === "status500") return this.#text(log, 500, `internal error for ${path}\n`);
    if (fault === "status404") return this.#text(log, 404, "not found\n");

    switch (route) {
      case "latest":
        return this.#send(log, "text/plain; charset=utf-8", this.latestNote(), fault);
      case "lookup": {
        const key = path.slice("/tlog/lookup/".length);
        const id = this.#lookupOverrides.get(key) ?? this.#builds.get(key);
        const text = id === undefined ? undefined : this.#log.records[id];
        if (id === undefined || text === undefined) return this.#text(log, 404, "not found\n");
        let head = formatRecordResponse(id, text);
        if (fault === "corrupt") {
          head = head.slice();
          const at = String(id).length + 1; // first byte of the record text
          head[at] = (head[at] ?? 0) ^ 1;
        }
        return this.#send(log, "text/plain; charset=utf-8", concat(head, this.latestNote()), fault);
      }
      case "tile":
        return this.#tile(path.slice("/tlog/".length), log, fault);
      case "download": {
        const d = this.#downloads.get(path);
        if (d === undefined) return this.#text(log, 404, "not found\n");
        if (fault === "endless") return this.#endless(log, "application/gzip", true);
        if (fault === undefined) {
          const file = await Deno.open(d.gz);
          log(200, (await file.stat()).size);
          return new Response(file.readable, { headers: { "content-type": "application/gzip" } });
        }
        return this.#send(log, "application/gzip", await Deno.readFile(d.gz), fault);
      }
      default:
        return this.#text(log, 404, "not found\n");
    }
  }

  #tile(
    path: string,
    log: (status: number, bytes: number) => void,
    fault: Fault | undefined,
  ): Response {
    let tile;
    try {
      tile = parseTilePath(path);
    } catch {
      return this.#text(log, 400, "invalid tile syntax\n");
    }
    if (tile.height !== 8) return this.#text(log, 404, "only tiles of height 8\n");
    const size = this.#log.size;
    if (tile.level === -1) {
      if (tile.n * 256 + tile.width > size) return this.#text(log, 500, "tile beyond tree\n");
      const parts = [];
      for (let i = 0; i < tile.width; i++) {
        const id = tile.n * 256 + i;
        parts.push(formatRecordResponse(id, this.#log.records[id] ?? new Uint8Array()));
      }
      return this.#send(log, "text/plain; charset=utf-8", concat(...parts), fault);
    }
    if ((tile.n * 256 + tile.width) * 256 ** tile.level > size) {
      return this.#text(log, 500, "tile beyond tree\n");
    }
    let data = this.#log.tile(tile.level, tile.n, tile.width);
    if (fault === "corrupt") {
      data = data.slice();
      data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 1;
    }
    return this.#send(log, "application/octet-stream", data, fault);
  }

  #text(log: (status: number, bytes: number) => void, status: number, body: string): Response {
    log(status, body.length);
    return new Response(body, { status, headers: { "content-type": "text/plain" } });
  }

  #send(
    log: (status: number, bytes: number) => void,
    type: string,
    body: Uint8Array,
    fault: Fault | undefined,
  ): Response {
    const headers = { "content-type": type };
    if (fault === "endless") return this.#endless(log, type, false);
    if (fault === "truncate") {
      const half = body.subarray(0, Math.floor(body.length / 2));
      log(200, half.length);
      return new Response(half.slice(), { headers });
    }
    if (fault === "corrupt" && type === "application/gzip") {
      // Flip a bit of the CRC-32 in the gzip trailer: the data decompresses to the
      // right bytes, and only the integrity check tells (corrupting deflate data can
      // decode to garbage of any length instead, which the size check catches).
      body = body.slice();
      const at = body.length - 8;
      body[at] = (body[at] ?? 0) ^ 0x01;
    }
    if (fault === "stall") {
      const half = body.subarray(0, Math.floor(body.length / 2));
      const closed = this.#closed.promise;
      log(200, half.length);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(half);
        },
        async pull(c) {
          await closed;
          c.close();
        },
      });
      return new Response(stream, { headers });
    }
    log(200, body.length);
    return new Response(body.slice(), { headers });
  }

  #endless(
    log: (status: number, bytes: number) => void,
    type: string,
    gzip: boolean,
  ): Response {
    const record: RequestRecord = { route: "other", path: "", status: 200, bytes: 0 };
    log(200, 0);
    const entry = this.requests[this.requests.length - 1] ?? record;
    const isClosed = () => this.#isClosed;
    // Random bytes for gzip, so that compressed data flows at once; text otherwise.
    const chunk = gzip
      ? crypto.getRandomValues(new Uint8Array(64 * 1024))
      : new Uint8Array(64 * 1024).fill(0x61);
    const source = new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull(c) {
        if (isClosed()) {
          c.close();
          return;
        }
        entry.bytes += chunk.length;
        c.enqueue(chunk);
      },
    });
    const stream = gzip ? source.pipeThrough(new CompressionStream("gzip")) : source;
    return new Response(stream, { headers: { "content-type": type } });
  }
}

/**
 * Starts a test gobuild server on 127.0.0.1 (a free port).
 * @example
 * await using server = await startGobuildServer();
 * const build = await server.addBuild(spec, binaryPath);
 */
export async function startGobuildServer(
  options: GobuildServerOptions = {},
): Promise<GobuildServer> {
  const signer = parseSignerKey(options.signerKey ?? TEST_SIGNER_KEY);
  const dir = await Deno.makeTempDir({ prefix: "ysco-gobuild-" });
  const ready: { server?: GobuildServer } = {};
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => ready.server?.handle(req) ?? new Response("starting\n", { status: 503 }),
  );
  ready.server = new GobuildServer(server, signer, dir);
  return ready.server;
}

/** A deterministic signer other than the server's, with the given name. */
function otherSigner(name: string): SignerKey {
  return signerFromSeed(name, createHash("sha256").update(`other signer ${name}`).digest());
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
