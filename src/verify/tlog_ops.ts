/**
 * The I/O of the transparency-log client: HTTP requests to gobuild's tlog API, and
 * the cache directory `<dir>/gobuildverifiercache/<name>/`:
 *
 * - `config/key`: the verifier key, pinned for the name;
 * - `config/<name>/latest`: the latest verified signed tree note, replaced only by
 *   compare-and-swap under a file lock, so that two processes cannot roll it back;
 * - `cache/<name>/lookup/<key>`: verified lookup responses;
 * - `cache/<name>/tile/8/...`: authenticated tiles.
 *
 * Files are written to a temporary name and renamed, so that readers never see a
 * partial file.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { HttpStatusError } from "./errors.ts";

/** The seam between the client's logic and the world (Go's sumdb.ClientOps). */
export interface TlogOps {
  /**
   * GETs a path below the tlog base URL ("/lookup/KEY", "/tile/8/0/000.p/5") and
   * returns the body, at most `limit` bytes.
   * @throws HttpStatusError for a status other than 200; Error naming the URL otherwise
   */
  readRemote(path: string, limit: number): Promise<Uint8Array>;
  /** Reads a config file ("key", "NAME/latest"); empty when it does not exist. */
  readConfig(file: string): Promise<Uint8Array>;
  /**
   * Replaces a config file's content `old` (empty: absent) by `data`, atomically
   * with respect to other processes.
   * @returns false when the file no longer holds `old` (nothing written)
   */
  writeConfig(file: string, old: Uint8Array, data: Uint8Array): Promise<boolean>;
  /** Reads a cache file ("NAME/lookup/KEY", "NAME/tile/8/..."); undefined when absent. */
  readCache(file: string): Promise<Uint8Array | undefined>;
  /** Writes a cache file. */
  writeCache(file: string, data: Uint8Array): Promise<void>;
}

/** Options for httpTlogOps. */
export interface HttpTlogOpsOptions {
  /** The tlog base URL, e.g. "https://beta.gobuilds.org/tlog". */
  baseUrl: string;
  /** The ys directory: the cache goes in `<dir>/gobuildverifiercache/<name>/`. */
  dir: string;
  /** The verifier key's name. */
  name: string;
  /** Limit for each request, headers and body (gobuild may build on demand). @default 600000 */
  timeoutMs?: number;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Called after each completed remote read (for statistics). */
  onRemoteRead?: (url: string, bytes: number) => void;
}

/** The default limit for one tlog request. */
export const DEFAULT_TLOG_TIMEOUT_MS = 10 * 60 * 1000;

/** The directory of a log's cache: `<dir>/gobuildverifiercache/<name>`. */
export function tlogCacheDir(dir: string, name: string): string {
  if (name === "" || name === "." || name === ".." || /[/\\]/.test(name)) {
    throw new SyntaxError(`Cannot use verifier key name "${name}" as a directory name`);
  }
  return join(dir, "gobuildverifiercache", name);
}

/** TlogOps over HTTP and a cache directory. */
export function httpTlogOps(options: HttpTlogOpsOptions): TlogOps {
  const root = tlogCacheDir(options.dir, options.name);
  const base = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TLOG_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  const config = (file: string) => join(root, "config", safeRelative(file));
  const cache = (file: string) => join(root, "cache", safeRelative(file));
  return {
    async readRemote(path, limit) {
      const url = base + path;
      const body = await httpGet(url, { limit, timeoutMs, fetch: doFetch });
      options.onRemoteRead?.(url, body.length);
      return body;
    },
    async readConfig(file) {
      return await readOptional(config(file)) ?? new Uint8Array();
    },
    async writeConfig(file, old, data) {
      const path = config(file);
      await Deno.mkdir(dirname(path), { recursive: true });
      using lock = await Deno.open(path + ".lock", { write: true, create: true });
      await lock.lock(true);
      try {
        const current = await readOptional(path) ?? new Uint8Array();
        if (!bytesEqual(current, old)) return false;
        await writeAtomic(path, data, true);
        return true;
      } finally {
        await lock.unlock();
      }
    },
    async readCache(file) {
      return await readOptional(cache(file));
    },
    async writeCache(file, data) {
      const path = cache(file);
      await Deno.mkdir(dirname(path), { recursive: true });
      await writeAtomic(path, data, false);
    },
  };
}

/**
 * GETs url and returns the body (at most limit bytes), within timeoutMs for headers
 * and body together.
 * @throws HttpStatusError for a status other than 200; Error naming the URL otherwise
 */
export async function httpGet(
  url: string,
  options: { limit: number; timeoutMs: number; fetch?: typeof fetch },
): Promise<Uint8Array> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const fail = (what: string, cause: unknown): never => {
    const state = controller.signal.aborted
      ? `no complete answer within ${options.timeoutMs} ms`
      : what;
    throw new Error(`Cannot fetch "${url}": ${state}`, { cause });
  };
  try {
    let res: Response | undefined;
    try {
      res = await (options.fetch ?? fetch)(url, { signal: controller.signal });
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err), err);
    }
    if (res === undefined) return fail("no response", undefined);
    let body: Uint8Array | undefined;
    try {
      body = await readLimited(res, res.status === 200 ? options.limit : 500);
    } catch (err) {
      if (res.status === 200) fail(err instanceof Error ? err.message : String(err), err);
    }
    if (res.status !== 200) {
      throw new HttpStatusError("fetch", url, res.status, new TextDecoder().decode(body));
    }
    return body ?? new Uint8Array();
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a body; a 200 body over limit is an error, others are cut at limit. */
async function readLimited(res: Response, limit: number): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array();
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      n += value.length;
      if (n > limit) {
        if (res.status !== 200) break;
        throw new Error(`answer larger than ${limit} bytes`);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(Math.min(n, limit));
  let off = 0;
  for (const p of parts) {
    if (off >= out.length) break;
    out.set(p.subarray(0, out.length - off), off);
    off += p.length;
  }
  return out;
}

function safeRelative(file: string): string {
  const parts = file.split("/");
  if (file === "" || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new SyntaxError(`Cannot use "${file}" as a cache file name`);
  }
  return parts.join("/");
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

async function writeAtomic(path: string, data: Uint8Array, sync: boolean): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    using f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o666 });
    let rest = data;
    while (rest.length > 0) rest = rest.subarray(await f.write(rest));
    if (sync) await f.sync();
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  try {
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
