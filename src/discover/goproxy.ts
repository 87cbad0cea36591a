/**
 * The Go module proxy protocol as ysco uses it: a module's version list
 * (`<base>/<escaped path>/@v/list`), its latest version (`@latest`, for modules
 * without tags), and the Go toolchains from the `golang.org/toolchain` module's list.
 * Answers are capped at 1 MiB; errors quote the URL, the status and the start of
 * the body.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import { isValidSemver, sortSemverDescending } from "../version/semver.ts";
import { parseToolchainList, type ToolchainList } from "../version/toolchains.ts";
import { escapeModulePath, goQuote } from "./module_path.ts";

/** The module whose versions name every Go toolchain release and platform. */
export const TOOLCHAIN_MODULE = "golang.org/toolchain";

/** Largest answer read from a proxy. */
export const MAX_PROXY_ANSWER = 1 << 20;

/** How much of an error body an error message quotes. */
const ERROR_BODY_QUOTE = 200;

/** Options for the proxy requests. */
export interface GoProxyOptions {
  /** Aborts the request (the caller's timeout). */
  signal?: AbortSignal;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Largest answer accepted, in bytes. @default MAX_PROXY_ANSWER */
  maxBytes?: number;
}

/** A failed proxy request. */
export class GoProxyError extends Error {
  /** The URL requested. */
  readonly url: string;
  /** The HTTP status, when the proxy answered with one other than 200. */
  readonly status: number | undefined;

  /**
   * @param url the URL requested
   * @param detail the state, e.g. `status 500 Internal Server Error, expected 200 ("...")`
   * @param status the HTTP status, when there was one
   */
  constructor(url: string, detail: string, status?: number, options?: ErrorOptions) {
    super(`Cannot fetch "${url}": ${detail}`, options);
    this.name = "GoProxyError";
    this.url = url;
    this.status = status;
  }

  /** Whether the proxy said the module (or version) does not exist: 404 or 410. */
  get notFound(): boolean {
    return this.status === 404 || this.status === 410;
  }
}

/**
 * The URL of a module's proxy resource: base (with "/" appended when missing) +
 * escaped path + "/" + what, e.g. what "@v/list".
 * @throws TypeError for an invalid module path
 */
export function proxyUrl(base: string, modulePath: string, what: string): string {
  return `${base.endsWith("/") ? base : base + "/"}${escapeModulePath(modulePath)}/${what}`;
}

/**
 * Parses an `@v/list` answer: one version per line (further fields ignored, as the
 * go command does), empty lines skipped. Returns the versions newest first.
 * @throws SyntaxError naming the line when a line is not a Go semantic version
 */
export function parseVersionList(text: string, url: string): string[] {
  const versions = new Set<string>();
  for (const [i, line] of text.split("\n").entries()) {
    const v = line.trim().split(/\s+/)[0] ?? "";
    if (v === "") continue;
    if (!isValidSemver(v)) {
      throw new SyntaxError(
        `Cannot parse version list "${url}": line ${i + 1} is not a version: ${
          goQuote(line.slice(0, 80))
        }`,
      );
    }
    versions.add(v);
  }
  return sortSemverDescending([...versions]);
}

/**
 * Fetches a module's tagged versions, newest first.
 * @throws GoProxyError for a failed request (notFound for 404 and 410), SyntaxError
 * for an answer that is not a version list
 */
export async function fetchVersionList(
  base: string,
  modulePath: string,
  options: GoProxyOptions = {},
): Promise<string[]> {
  const url = proxyUrl(base, modulePath, "@v/list");
  return parseVersionList(await fetchText(url, options), url);
}

/** A module's latest version from `@latest`. */
export interface LatestVersion {
  version: string;
  /** The commit or tag time the proxy reports, when valid. */
  time?: Date;
}

/**
 * Fetches `@latest`: the newest tagged version, or a pseudo-version for a module
 * without tags.
 * @throws GoProxyError for a failed request, SyntaxError for an unexpected answer
 */
export async function fetchLatest(
  base: string,
  modulePath: string,
  options: GoProxyOptions = {},
): Promise<LatestVersion> {
  const url = proxyUrl(base, modulePath, "@latest");
  const text = await fetchText(url, options);
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(`Cannot parse "${url}": not JSON: ${goQuote(text.slice(0, 80))}`, {
      cause: err,
    });
  }
  const version = typeof info === "object" && info !== null && "Version" in info
    ? info.Version
    : undefined;
  if (typeof version !== "string" || !isValidSemver(version)) {
    throw new SyntaxError(
      `Cannot parse "${url}": no valid "Version" in ${goQuote(text.slice(0, 80))}`,
    );
  }
  const timeText = typeof info === "object" && info !== null && "Time" in info ? info.Time : "";
  const time = typeof timeText === "string" ? new Date(timeText) : new Date(NaN);
  return Number.isNaN(time.getTime()) ? { version } : { version, time };
}

/**
 * Fetches the list of golang.org/toolchain versions and classifies it into the
 * current, previous and next Go releases.
 * @throws GoProxyError for a failed request
 */
export async function fetchToolchainList(
  base: string,
  options: GoProxyOptions = {},
): Promise<ToolchainList> {
  const url = proxyUrl(base, TOOLCHAIN_MODULE, "@v/list");
  const list = parseToolchainList((await fetchText(url, options)).split("\n"));
  if (list.versions.length === 0 && list.skipped.length > 0) {
    const first = list.skipped[0];
    throw new SyntaxError(
      `Cannot parse toolchain list "${url}": no toolchain versions, first line ${
        goQuote(first?.line.slice(0, 80) ?? "")
      }: ${first?.reason}`,
    );
  }
  return list;
}

/** GETs url and returns its body as text, enforcing status 200 and the size cap. */
async function fetchText(url: string, options: GoProxyOptions): Promise<string> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const max = options.maxBytes ?? MAX_PROXY_ANSWER;
  let res: Response;
  try {
    res = await doFetch(url, options.signal ? { signal: options.signal } : {});
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    // fetch says "fetch failed" and keeps the reason (DNS, refused, TLS) in its cause.
    const cause = err instanceof Error && err.cause !== undefined
      ? `: ${errorMessage(err.cause)}`
      : "";
    throw new GoProxyError(url, errorMessage(err) + cause, undefined, { cause: err });
  }
  if (res.status !== 200) {
    const start = await readCapped(res, ERROR_BODY_QUOTE, url, options.signal, true);
    throw new GoProxyError(
      url,
      `status ${res.status}${res.statusText ? " " + res.statusText : ""}, expected 200 (${
        goQuote(start.trim())
      })`,
      res.status,
    );
  }
  return await readCapped(res, max, url, options.signal, false);
}

/** Reads at most max bytes of the body; more is an error, or cut off when truncate is set. */
async function readCapped(
  res: Response,
  max: number,
  url: string,
  signal: AbortSignal | undefined,
  truncate: boolean,
): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
      if (size > max) {
        if (truncate) break;
        throw new GoProxyError(url, `answer larger than ${max} bytes`);
      }
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (err instanceof GoProxyError) throw err;
    throw new GoProxyError(url, `reading answer: ${errorMessage(err)}`, undefined, { cause: err });
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, max));
  let off = 0;
  for (const c of chunks) {
    const part = c.subarray(0, all.length - off);
    all.set(part, off);
    off += part.length;
  }
  return new TextDecoder().decode(all);
}
