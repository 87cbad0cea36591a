/**
 * The gopherwatch DNS API: the query names for a module and for the Go toolchains,
 * and the parsing of their TXT answers (`v=v1.2.3 t=66fa7e15; v=v0.9.1 t=65aa0b12`
 * and `v=go1.23.2 k=cur t=670d2a3b; ...`).
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { isCanonicalGoVersion } from "../version/goversion.ts";
import type { Toolchains } from "../version/toolchains.ts";
import { parseSemver } from "../version/semver.ts";
import { checkModulePath, goQuote } from "./module_path.ts";

/** The public gopherwatch zone. */
export const GOPHERWATCH_ZONE = "l.gopherwatch.org";

/** Longest DNS label, in bytes. */
const MAX_LABEL = 63;
/** Longest domain name in its text form without the final dot. */
const MAX_NAME = 253;

/**
 * Encodes one module path element as a gopherwatch label: 0-9, a-z and "-" stay,
 * every other byte becomes "_" and two lowercase hex digits; a leading and a
 * trailing "-" become "_2d".
 */
export function encodeGopherwatchLabel(elem: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(elem)) {
    const c = String.fromCharCode(byte);
    out += /^[0-9a-z-]$/.test(c) ? c : "_" + byte.toString(16).padStart(2, "0");
  }
  if (out.startsWith("-")) out = "_2d" + out.slice(1);
  if (out.endsWith("-")) out = out.slice(0, -1) + "_2d";
  return out;
}

/**
 * The gopherwatch name of a module, with the final dot:
 * "github.com/mjl-/mox" in zone "l.gopherwatch.org" is
 * "mox.mjl_2d._.github.com.v0.l.gopherwatch.org.".
 * @throws TypeError for an invalid module path, a path without "/", a label over
 * 63 bytes or a name over 253 characters
 */
export function gopherwatchModuleName(modulePath: string, zone: string): string {
  const problem = checkModulePath(modulePath);
  if (problem !== undefined) throw new TypeError(`Cannot look up module by DNS: ${problem}`);
  const elems = modulePath.split("/");
  const host = (elems.shift() ?? "").toLowerCase();
  if (elems.length === 0) {
    throw new TypeError(
      `Cannot look up module ${
        goQuote(modulePath)
      } by DNS: a module path without "/" has no gopherwatch name`,
    );
  }
  const labels = elems.reverse().map(encodeGopherwatchLabel);
  const long = labels.find((l) => l.length > MAX_LABEL);
  if (long !== undefined) {
    throw new TypeError(
      `Cannot look up module ${
        goQuote(modulePath)
      } by DNS: label "${long}" is longer than ${MAX_LABEL} bytes`,
    );
  }
  const name = `${labels.join(".")}._.${host}.v0.${trimDot(zone)}`;
  if (name.length > MAX_NAME) {
    throw new TypeError(
      `Cannot look up module ${
        goQuote(modulePath)
      } by DNS: name is longer than ${MAX_NAME} characters`,
    );
  }
  return name + ".";
}

/** The gopherwatch name of the Go toolchain record, "toolchain.v0.<zone>.". */
export function gopherwatchToolchainName(zone: string): string {
  return `toolchain.v0.${trimDot(zone)}.`;
}

function trimDot(zone: string): string {
  return zone.endsWith(".") ? zone.slice(0, -1) : zone;
}

/** One version from a gopherwatch module record. */
export interface GopherwatchVersion {
  /** The module version, e.g. "v1.2.3" or "v28.2.2+incompatible". */
  version: string;
  /** When gopherwatch discovered the version in the sum database. */
  time: Date;
}

/** One toolchain from the gopherwatch toolchain record. */
export interface GopherwatchToolchain {
  /** The Go version, e.g. "go1.23.2". */
  version: string;
  /** When gopherwatch discovered it. */
  time: Date;
}

/** The gopherwatch toolchain record: cur, prev and next ("" when absent) with their times. */
export interface GopherwatchToolchains {
  toolchains: Toolchains;
  /** Discovery times by kind, for the kinds present. */
  times: Partial<Record<keyof Toolchains, Date>>;
}

/**
 * Joins the strings of TXT records into the text to parse: the strings of one
 * record are concatenated (a long value is split over 255-byte strings), and
 * records are joined with ";". The original concatenates records without a
 * separator, which reads the same for every answer it can read (where each record
 * ends in ";"), and garbage for the rest.
 */
export function joinTxtRecords(records: readonly (readonly string[])[]): string {
  return records.map((strings) => strings.join("")).join(";");
}

/**
 * Parses the entries of a gopherwatch TXT text: entries separated by ";", each
 * `key=value` pairs separated by spaces. Empty entries (a trailing ";") and runs
 * of spaces are tolerated.
 * @throws SyntaxError for a pair without "=", an empty value or a duplicate key
 */
export function parseGopherwatchEntries(text: string): Array<Map<string, string>> {
  const entries: Array<Map<string, string>> = [];
  for (const raw of text.split(";")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const pairs = new Map<string, string>();
    for (const pair of entry.split(/\s+/)) {
      const eq = pair.indexOf("=");
      if (eq <= 0) {
        throw new SyntaxError(
          `Cannot parse gopherwatch record: bad pair ${goQuote(pair)} in ${goQuote(text)}`,
        );
      }
      const key = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === "") {
        throw new SyntaxError(
          `Cannot parse gopherwatch record: empty value for "${key}" in ${goQuote(text)}`,
        );
      }
      if (pairs.has(key)) {
        throw new SyntaxError(
          `Cannot parse gopherwatch record: duplicate key "${key}" in ${goQuote(text)}`,
        );
      }
      pairs.set(key, value);
    }
    entries.push(pairs);
  }
  return entries;
}

/**
 * Parses a gopherwatch module record: the versions in record order (newest major
 * first, as gopherwatch sends them). Entries without v or t are skipped (forward
 * compatible); "+incompatible" versions are accepted.
 * @throws SyntaxError for a malformed record, an invalid version or time
 */
export function parseModuleRecord(text: string): GopherwatchVersion[] {
  const out: GopherwatchVersion[] = [];
  for (const entry of parseGopherwatchEntries(text)) {
    const v = entry.get("v");
    const t = entry.get("t");
    if (v === undefined || t === undefined) continue;
    if (parseSemver(v) === undefined) {
      throw new SyntaxError(
        `Cannot parse gopherwatch record: invalid version ${goQuote(v)} in ${goQuote(text)}`,
      );
    }
    out.push({ version: v, time: parseHexTime(t, text) });
  }
  return out;
}

/**
 * Parses the gopherwatch toolchain record. Entries need v, t and k; the first
 * entry of each kind (cur, prev, next) wins; unknown kinds are skipped. Versions
 * must be canonical ("go1.23.5", not "go1.23.5-x"): they are fetched as they are.
 * @throws SyntaxError for a malformed record, an invalid Go version or time, or a
 * record without any known kind
 */
export function parseToolchainRecord(text: string): GopherwatchToolchains {
  const toolchains: Toolchains = { cur: "", prev: "", next: "" };
  const times: GopherwatchToolchains["times"] = {};
  for (const entry of parseGopherwatchEntries(text)) {
    const v = entry.get("v");
    const t = entry.get("t");
    const k = entry.get("k");
    if (v === undefined || t === undefined || k === undefined) continue;
    if (k !== "cur" && k !== "prev" && k !== "next") continue;
    if (toolchains[k] !== "") continue;
    if (!isCanonicalGoVersion(v)) {
      throw new SyntaxError(
        `Cannot parse gopherwatch toolchain record: invalid Go version ${goQuote(v)} in ${
          goQuote(text)
        }`,
      );
    }
    toolchains[k] = v;
    times[k] = parseHexTime(t, text);
  }
  if (toolchains.cur === "" && toolchains.prev === "" && toolchains.next === "") {
    throw new SyntaxError(
      `Cannot parse gopherwatch toolchain record: no version in ${goQuote(text)}`,
    );
  }
  return { toolchains, times };
}

function parseHexTime(t: string, text: string): Date {
  if (!/^[0-9a-fA-F]{1,12}$/.test(t)) {
    throw new SyntaxError(
      `Cannot parse gopherwatch record: invalid time ${goQuote(t)} in ${goQuote(text)}`,
    );
  }
  return new Date(parseInt(t, 16) * 1000);
}
