/**
 * Downloads a binary that the log vouches for: GET the `.gz`, then gunzip, hash
 * (SHA-256) and write it to a temporary file next to the destination, in one
 * stream with bounded memory. The sum and the size must both equal the record's;
 * the file is synced and gets its mode (and, as root, owner) from a reference file
 * or executable bits. On any failure the temporary file is removed and nothing
 * else has changed.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { encodeBase64Url } from "./base64.ts";
import type { BuildRecord } from "./buildspec.ts";
import { versionFileName } from "./buildspec.ts";
import { HttpStatusError, VerificationError } from "./errors.ts";
import { sha256Stream } from "./hash.ts";

/** What to download. */
export interface DownloadRequest {
  /** URL of the gzipped binary. */
  url: string;
  /** The verified record: size and sum must match the uncompressed binary. */
  record: BuildRecord;
  /** Where the binary will go: the temporary file is created in its directory. */
  dest: string;
}

/** Options for downloadBinary. */
export interface DownloadOptions {
  /** Limit for the whole download, headers and body. @default 600000 (10 minutes) */
  timeoutMs?: number;
  /**
   * A file whose permission bits (and owner and group, when running as root) the new
   * file gets, typically the current binary. Without it: 0666 minus umask, plus
   * execute bits wherever read bits are set.
   */
  modeFrom?: string;
  /**
   * Stops the download at once: downloadBinary rejects with the signal's reason, and
   * the temporary file is removed.
   */
  signal?: AbortSignal;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Called after each piece of the binary is written, with the bytes written so far
   * and the record's size (for a progress bar).
   */
  onProgress?: (written: number, total: number) => void;
}

/** A verified binary in a temporary file next to the destination. */
export interface DownloadedBinary {
  /** The temporary file: `ysco.<versionName>.<random>` in the destination's directory. */
  path: string;
  size: number;
  sum: string;
  /** SHA-256 of the binary, hex. */
  sha256: string;
  /** The file's permission bits. */
  mode: number;
}

/** The default limit for one download: gobuild may build on demand. */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 10 * 60 * 1000;

/** gobuild's sum of a binary's SHA-256: "0" + base64url of its first 20 bytes. */
export function binarySum(sha256: Uint8Array): string {
  return "0" + encodeBase64Url(sha256.subarray(0, 20));
}

/**
 * Downloads, decompresses and verifies a binary into a temporary file next to
 * request.dest; the caller moves it into place (or removes it).
 * @throws HttpStatusError for an answer other than 200
 * @throws VerificationError when the sum or size differs from the record
 * @throws Error for network, timeout, gzip and file errors, naming the URL or file
 * @throws options.signal's reason when it aborts (at once: the request, the
 * decompression and the writing stop, and the temporary file is removed)
 */
export async function downloadBinary(
  request: DownloadRequest,
  options: DownloadOptions = {},
): Promise<DownloadedBinary> {
  options.signal?.throwIfAborted();
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error("timeout")), timeoutMs);
  try {
    return await download(request, options, timeout.signal, timeoutMs);
  } catch (err) {
    // Stopped: the caller's reason, as fetch does; the temporary file is gone already.
    if (options.signal?.aborted) throw options.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function download(
  request: DownloadRequest,
  options: DownloadOptions,
  timeout: AbortSignal,
  timeoutMs: number,
): Promise<DownloadedBinary> {
  const { url, record, dest } = request;
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const doFetch = options.fetch ?? fetch;
  const fail = (what: string, cause?: unknown): never => {
    const state = timeout.aborted ? `no complete answer within ${timeoutMs} ms` : what;
    throw new Error(`Cannot download binary "${url}": ${state}`, { cause });
  };

  let res: Response | undefined;
  try {
    res = await doFetch(url, { signal });
  } catch (err) {
    fail(errorText(err), err);
  }
  if (res === undefined) return fail("no response");
  if (res.status !== 200 || res.body === null) {
    const body = await readStart(res, 500, signal);
    throw new HttpStatusError("download binary", url, res.status, body);
  }

  const path = join(
    dirname(dest),
    `ysco.${versionFileName(record)}.${crypto.randomUUID().slice(0, 13).replace("-", "")}`,
  );
  let file: Deno.FsFile | undefined;
  let writer: PipelinedWriter | undefined;
  // The body goes through the decompressor by hand, so that each chunk's memory can
  // be released as soon as it is used (see release()).
  const body = res.body.getReader();
  // A stalled body read ends at once on abort, whatever the fetch implementation does.
  const stop = () => body.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", stop, { once: true });
  try {
    file = await Deno.open(path, { write: true, createNew: true, mode: 0o666 });
    writer = new PipelinedWriter(file);
    const hash = sha256Stream();
    let size = 0;
    const gunzip = new DecompressionStream("gzip");
    const input = gunzip.writable.getWriter();
    const pump = (async () => {
      try {
        for (;;) {
          const { done, value } = await body.read();
          if (done) break;
          await input.write(value);
          release(value);
        }
        await input.close();
      } catch (err) {
        await input.abort(err).catch(() => {});
      }
    })();
    const reader = gunzip.readable.getReader();
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (err) {
          return fail(`reading or decompressing: ${errorText(err)}`, err);
        }
        if (chunk.done) break;
        size += chunk.value.length;
        if (size > record.size) {
          throw new VerificationError(
            `Cannot download binary "${url}": more than the ${record.size} bytes of its record`,
          );
        }
        hash.update(chunk.value);
        await writer.write(chunk.value);
        options.onProgress?.(size, record.size);
      }
    } finally {
      reader.cancel().catch(() => {});
      body.cancel().catch(() => {});
      await pump;
    }
    // A stop or timeout that cut the body short can look like its end.
    if (signal.aborted) fail("stopped", signal.reason);
    await writer.close();
    const digest = hash.digest();
    const sum = binarySum(digest);
    if (size !== record.size) {
      throw new VerificationError(
        `Cannot download binary "${url}": ${size} bytes, its record says ${record.size}`,
      );
    }
    if (sum !== record.sum) {
      throw new VerificationError(
        `Cannot download binary "${url}": downloaded binary has sum ${sum}, expected ${record.sum}`,
      );
    }
    const mode = await applyMode(file, path, options.modeFrom);
    await file.sync();
    file.close();
    file = undefined;
    return { path, size, sum, sha256: digest.toHex(), mode };
  } catch (err) {
    await writer?.settle();
    try {
      file?.close();
    } catch {
      // already closed
    }
    await Deno.remove(path).catch(() => {});
    if (err instanceof Deno.errors.AlreadyExists || !(err instanceof Error)) throw err;
    if (err.message.startsWith("Cannot ")) throw err;
    throw new Error(
      `Cannot write binary "${basename(path)}" in "${dirname(path)}": ${err.message}`,
      {
        cause: err,
      },
    );
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

/**
 * Writes chunks to a file with one write in progress while the next chunk is
 * decompressed and hashed; a chunk's memory is released once it is written.
 */
class PipelinedWriter {
  #pending: Promise<void> = Promise.resolve();

  constructor(readonly file: Deno.FsFile) {}

  /** Starts writing chunk once the previous write is done. */
  async write(chunk: Uint8Array): Promise<void> {
    await this.#pending;
    this.#pending = writeAll(this.file, chunk).then(() => release(chunk));
    this.#pending.catch(() => {}); // awaited by the next write, close or settle
  }

  /** Waits for every write. */
  async close(): Promise<void> {
    await this.#pending;
  }

  /** Waits for the write in progress, ignoring its outcome (before removing the file). */
  async settle(): Promise<void> {
    await this.#pending.catch(() => {});
  }
}

/** Sets the new file's mode (and owner, as root) from reference, or adds execute bits. */
async function applyMode(file: Deno.FsFile, path: string, reference?: string): Promise<number> {
  if (reference !== undefined) {
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(reference);
    } catch (err) {
      throw new Error(`Cannot copy the mode of "${reference}": ${errorText(err)}`, { cause: err });
    }
    const mode = (st.mode ?? 0o755) & 0o7777;
    // Owner first: chown clears the setuid and setgid bits that chmod then sets.
    if (Deno.uid() === 0 && st.uid !== null && st.gid !== null) {
      await Deno.chown(path, st.uid, st.gid);
    }
    await Deno.chmod(path, mode);
    return mode;
  }
  const current = ((await file.stat()).mode ?? 0o644) & 0o777;
  const mode = current | ((current & 0o444) / 4); // execute wherever read is allowed
  await Deno.chmod(path, mode);
  return mode;
}

/**
 * Frees a chunk's memory now by detaching its buffer, instead of at V8's next full
 * collection, which lets some 64 MB of dead buffers pile up first: this keeps a
 * download's memory bounded. Only buffers that the chunk covers whole are detached.
 */
function release(chunk: Uint8Array): void {
  const buffer = chunk.buffer;
  if (!(buffer instanceof ArrayBuffer)) return;
  if (chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength) return;
  try {
    buffer.transfer(0);
  } catch {
    // not detachable: the collector frees it later
  }
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let rest = data;
  while (rest.length > 0) rest = rest.subarray(await file.write(rest));
}

/** The first bytes of a response body as text, for error messages; never throws. */
async function readStart(res: Response, limit: number, signal: AbortSignal): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < limit && !signal.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      n += value.length;
    }
  } catch {
    // the start is enough
  } finally {
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return new TextDecoder().decode(all.subarray(0, limit));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
