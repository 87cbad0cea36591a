/**
 * gobuild's build specs and records: the lookup key of a build, the record the log
 * holds for it, the download URL and the versioned file name.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { VerificationError } from "./errors.ts";

/** What to build: gobuild's seven fields that identify a build. */
export interface BuildSpec {
  /** Module path, e.g. "github.com/mjl-/moxtools". */
  mod: string;
  /** Module version, e.g. "v0.0.5". */
  version: string;
  /** Package directory in the module: "/" for the root, else like "/cmd/tool". */
  dir: string;
  goos: string;
  goarch: string;
  /** Go toolchain, e.g. "go1.23.3". */
  goversion: string;
  /** Linked with -s (ysco always asks for stripped builds). */
  stripped: boolean;
}

/** A record of the log: a build spec with the size and sum of the binary gobuild made. */
export interface BuildRecord extends BuildSpec {
  /** Size of the uncompressed binary in bytes. */
  size: number;
  /** "0" + base64url(first 20 bytes of SHA-256 of the binary): 28 characters. */
  sum: string;
}

const ELEMENT = /^[A-Za-z0-9._~+-]+$/;
const SUM = /^0[A-Za-z0-9_-]{27}$/;

/**
 * Why spec cannot be used as a gobuild key (its fields go verbatim into URLs and
 * cache file names), or undefined when it can.
 */
export function buildSpecProblem(spec: BuildSpec): string | undefined {
  const path = (p: string) => p.split("/").every((e) => ELEMENT.test(e) && e !== "." && e !== "..");
  if (!spec.mod.includes(".") || !path(spec.mod)) {
    return `bad module path "${spec.mod}"`;
  }
  if (!ELEMENT.test(spec.version) || spec.version === "." || spec.version === "..") {
    return `bad version "${spec.version}"`;
  }
  if (spec.dir !== "/" && !(spec.dir.startsWith("/") && path(spec.dir.slice(1)))) {
    return `bad package directory "${spec.dir}" (want "/" or like "/cmd/tool")`;
  }
  if (!/^[a-z0-9]+$/.test(spec.goos)) return `bad GOOS "${spec.goos}"`;
  if (!/^[a-z0-9]+$/.test(spec.goarch)) return `bad GOARCH "${spec.goarch}"`;
  if (!/^go[0-9][A-Za-z0-9.]*$/.test(spec.goversion)) {
    return `bad Go version "${spec.goversion}"`;
  }
  return undefined;
}

/**
 * The key of a build, as lookups and download URLs use it:
 * `<mod>@<version>/<dir/><goos>-<goarch>-<goversion>[-stripped]/`.
 * @throws SyntaxError when a field cannot be used in a key
 */
export function buildSpecKey(spec: BuildSpec): string {
  const problem = buildSpecProblem(spec);
  if (problem !== undefined) {
    throw new SyntaxError(`Cannot make a gobuild key for ${describeSpec(spec)}: ${problem}`);
  }
  const d = spec.dir === "/" ? "" : spec.dir.slice(1) + "/";
  return `${spec.mod}@${spec.version}/${d}${spec.goos}-${spec.goarch}-${spec.goversion}${
    spec.stripped ? "-stripped" : ""
  }/`;
}

/** A readable one-line form of a spec: `mod@version/dir goos/goarch goversion [stripped]`. */
export function describeSpec(spec: BuildSpec): string {
  const dir = spec.dir === "/" ? "" : spec.dir;
  return `${spec.mod}@${spec.version}${dir} ${spec.goos}/${spec.goarch} ${spec.goversion}${
    spec.stripped ? " stripped" : ""
  }`;
}

/**
 * The file name of a build: `<name>-<version>-<goversion>[-stripped][.exe]`, name
 * being the last element of the package directory, or of the module path for "/".
 */
export function versionFileName(spec: BuildSpec): string {
  const name = (spec.dir === "/" ? spec.mod : spec.dir).split("/").pop() ?? "";
  return `${name}-${spec.version}-${spec.goversion}${spec.stripped ? "-stripped" : ""}${
    spec.goos === "windows" ? ".exe" : ""
  }`;
}

/**
 * Parses a record: one line of 8 or 9 space-separated fields,
 * `<mod> <version> <dir> <goos> <goarch> <goversion> <size> <sum>[ <variant>]\n`,
 * variant "" or "stripped" (records from before 2023 have 8 fields).
 * @throws SyntaxError naming the problem
 */
export function parseRecord(text: string): BuildRecord {
  const fail = (reason: string): never => {
    throw new SyntaxError(`Cannot parse record ${JSON.stringify(text)}: ${reason}`);
  };
  if (!text.endsWith("\n") || text.indexOf("\n") !== text.length - 1) {
    fail("not one line ending in a newline");
  }
  const f = text.slice(0, -1).split(" ");
  if (f.length !== 8 && f.length !== 9) fail(`${f.length} fields, expected 8 or 9`);
  for (const [i, v] of f.entries()) {
    if (i < 8 && v === "") fail(`field ${i + 1} is empty`);
    // deno-lint-ignore no-control-regex -- control characters are what is rejected
    if (/[\u0000-\u0020]/.test(v)) fail(`field ${i + 1} has a control character`);
  }
  const [
    mod = "",
    version = "",
    dir = "",
    goos = "",
    goarch = "",
    goversion = "",
    size = "",
    sum = "",
  ] = f;
  const variant = f[8] ?? "";
  if (variant !== "" && variant !== "stripped") fail(`bad variant "${variant}"`);
  if (!dir.startsWith("/")) fail(`bad package directory "${dir}"`);
  if (!/^[1-9][0-9]*$/.test(size) || !Number.isSafeInteger(Number(size))) {
    fail(`bad file size "${size}"`);
  }
  if (!SUM.test(sum)) fail(`bad sum "${sum}"`);
  return {
    mod,
    version,
    dir,
    goos,
    goarch,
    goversion,
    stripped: variant === "stripped",
    size: Number(size),
    sum,
  };
}

/** Formats a record as gobuild does today: 9 fields, the last "" or "stripped", "\n"-terminated. */
export function formatRecord(r: BuildRecord): string {
  return [
    r.mod,
    r.version,
    r.dir,
    r.goos,
    r.goarch,
    r.goversion,
    String(r.size),
    r.sum,
    r.stripped ? "stripped" : "",
  ].join(" ") + "\n";
}

/**
 * Requires that the log's record is for the build asked for: all seven spec fields equal.
 * @throws VerificationError naming both builds
 */
export function checkRecordMatches(spec: BuildSpec, record: BuildRecord): void {
  const same = spec.mod === record.mod && spec.version === record.version &&
    spec.dir === record.dir && spec.goos === record.goos && spec.goarch === record.goarch &&
    spec.goversion === record.goversion && spec.stripped === record.stripped;
  if (!same) {
    throw new VerificationError(
      `Cannot use record for ${describeSpec(record)}: the log returned it for ${
        describeSpec(spec)
      }`,
    );
  }
}

/**
 * The base URL of a log's tlog API: the configured one without trailing slashes, or
 * derived from the verifier key's name: `https://NAME/tlog` when it has a ".",
 * `http://NAME:8000/tlog` otherwise.
 */
export function tlogBaseUrl(keyName: string, configured = ""): string {
  if (configured !== "") return configured.replace(/\/+$/, "");
  return keyName.includes(".") ? `https://${keyName}/tlog` : `http://${keyName}:8000/tlog`;
}

/** The base URL of downloads: the tlog base URL without a trailing "/tlog". */
export function downloadBaseUrl(tlogBase: string): string {
  return tlogBase.replace(/\/tlog$/, "");
}

/** The URL of a build's gzipped binary: `<download base>/<key><sum>/<file>.gz`. */
export function binaryUrl(tlogBase: string, record: BuildRecord): string {
  return `${downloadBaseUrl(tlogBase)}/${buildSpecKey(record)}${record.sum}/${
    versionFileName(record)
  }.gz`;
}
