/**
 * The I/O of ysco's self-update: fetching and verifying the release feed, fetching
 * a release file with its SHA-256 and size checked in one stream, and trying the new
 * binary before trusting it.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { errorMessage } from "../errors.ts";
import { type Feed, type FeedMark, openFeed, type ReleaseFile, staleFeedProblem } from "./feed.ts";
import { sha256Stream } from "../verify/hash.ts";

/** Feeds are small; a larger answer is not a feed. */
const FEED_LIMIT = 1 << 20;

/**
 * Fetches the feed at url, checks its signature with verifierKey and refuses one
 * older than seen.
 * @throws Error naming the URL and the problem
 */
export async function fetchFeed(
  url: string,
  verifierKey: string,
  seen: FeedMark | undefined,
  timeoutMs: number,
): Promise<Feed> {
  let bytes: Uint8Array;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) {
      const text = (await res.text()).slice(0, 200);
      throw new Error(`status ${res.status} (${JSON.stringify(text)})`);
    }
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw new Error(`Cannot fetch release feed "${url}": ${errorMessage(err)}`, { cause: err });
  }
  if (bytes.length > FEED_LIMIT) {
    throw new Error(`Cannot use release feed "${url}": larger than 1 MiB`);
  }
  let feed: Feed;
  try {
    feed = openFeed(bytes, verifierKey, url);
  } catch (err) {
    throw new Error(`Cannot use release feed "${url}": ${errorMessage(err)}`, { cause: err });
  }
  const stale = staleFeedProblem(feed, seen);
  if (stale !== undefined) {
    throw new Error(`Cannot use release feed "${url}": refused as a replay: ${stale}`);
  }
  return feed;
}

/**
 * Downloads a release file into a temporary file next to dest, checking size and
 * SHA-256 as it streams, with modeFrom's permission bits. On any failure the
 * temporary file is removed.
 * @returns the temporary file; the caller renames it into place
 */
export async function downloadRelease(
  file: ReleaseFile,
  dest: string,
  modeFrom: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<string> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const tmp = join(dirname(dest), `.${basename(dest)}.${crypto.randomUUID()}.tmp`);
  const mode = ((await Deno.stat(modeFrom)).mode ?? 0o755) & 0o7777;
  const out = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
  try {
    const res = await fetch(file.url, { signal });
    if (res.status !== 200 || res.body === null) {
      await res.body?.cancel();
      throw new Error(`status ${res.status}`);
    }
    const hash = sha256Stream();
    let size = 0;
    for await (const chunk of res.body) {
      size += chunk.length;
      if (size > file.size) throw new Error(`more than the ${file.size} bytes the feed lists`);
      hash.update(chunk);
      let done = 0;
      while (done < chunk.length) done += await out.write(chunk.subarray(done));
    }
    if (size !== file.size) throw new Error(`${size} bytes, the feed lists ${file.size}`);
    const sum = hash.digest().toHex();
    if (sum !== file.sha256) throw new Error(`SHA-256 ${sum}, the feed lists ${file.sha256}`);
    await out.sync();
    out.close();
    await Deno.chmod(tmp, mode);
    return tmp;
  } catch (err) {
    try {
      out.close();
    } catch {
      // closed already
    }
    await Deno.remove(tmp).catch(() => {});
    throw new Error(
      `Cannot download ysco ${file.version} from "${file.url}": ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

/**
 * Runs `binary version` and checks that it answers with version: a binary that
 * cannot even say its version is never switched to.
 * @returns undefined when it does, else the problem
 */
export async function checkRuns(
  binary: string,
  version: string,
  timeoutMs = 60_000,
): Promise<string | undefined> {
  try {
    const child = new Deno.Command(binary, {
      args: ["version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { YSCO_SELF: binary },
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const out = await child.output();
    clearTimeout(timer);
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      return `"${binary} version" failed (status ${out.code}): ${
        new TextDecoder().decode(out.stderr).trim()
      }`;
    }
    if (!text.split(/\s+/).includes(version)) {
      return `"${binary} version" says ${JSON.stringify(text.trim())}, not ${version}`;
    }
    return undefined;
  } catch (err) {
    return `cannot run ${binary}: ${errorMessage(err)}`;
  }
}
