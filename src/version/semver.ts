/**
 * Go module versions: semantic versions with the "v" prefix, ordered exactly as
 * Go's golang.org/x/mod/semver orders them, plus the module-specific notions of
 * pseudo-versions and "+incompatible".
 *
 * Pure functions, no I/O.
 *
 * @module
 */

/** A parsed Go semantic version. Numeric parts are kept as decimal strings (no size limit). */
export interface Semver {
  /** Decimal major version without the "v", e.g. "1". */
  major: string;
  /** Decimal minor version; "0" when the shorthand "v1" was used. */
  minor: string;
  /** Decimal patch version; "0" when a shorthand was used. */
  patch: string;
  /** Prerelease including its leading "-", e.g. "-rc.1"; "" for a release. */
  prerelease: string;
  /** Build metadata including its leading "+", e.g. "+incompatible"; "" when absent. */
  build: string;
  /** What the shorthand left out, ".0.0" for "v1", ".0" for "v1.2", else "". */
  short: string;
}

/**
 * Parses a Go semantic version ("v1.2.3", "v1.2.3-rc.1+meta", and the shorthands
 * "v1" and "v1.2"). Returns undefined when the string is not a valid version.
 */
export function parseSemver(v: string): Semver | undefined {
  if (!v.startsWith("v")) return undefined;
  let rest = v.slice(1);
  const major = leadingInt(rest);
  if (major === undefined) return undefined;
  rest = rest.slice(major.length);
  if (rest === "") {
    return { major, minor: "0", patch: "0", prerelease: "", build: "", short: ".0.0" };
  }
  if (rest[0] !== ".") return undefined;
  const minor = leadingInt(rest.slice(1));
  if (minor === undefined) return undefined;
  rest = rest.slice(1 + minor.length);
  if (rest === "") return { major, minor, patch: "0", prerelease: "", build: "", short: ".0" };
  if (rest[0] !== ".") return undefined;
  const patch = leadingInt(rest.slice(1));
  if (patch === undefined) return undefined;
  rest = rest.slice(1 + patch.length);
  let prerelease = "";
  if (rest.startsWith("-")) {
    const end = rest.indexOf("+") === -1 ? rest.length : rest.indexOf("+");
    prerelease = rest.slice(0, end);
    if (!validIdentifiers(prerelease.slice(1), true)) return undefined;
    rest = rest.slice(end);
  }
  let build = "";
  if (rest.startsWith("+")) {
    build = rest;
    if (!validIdentifiers(build.slice(1), false)) return undefined;
    rest = "";
  }
  if (rest !== "") return undefined;
  return { major, minor, patch, prerelease, build, short: "" };
}

/** Reports whether v is a valid Go semantic version. */
export function isValidSemver(v: string): boolean {
  return parseSemver(v) !== undefined;
}

/**
 * Compares two versions by semantic version precedence: -1, 0 or +1. Build metadata
 * is ignored; an invalid version is lower than any valid one, and all invalid
 * versions are equal (as in Go's semver.Compare).
 */
export function compareSemver(v: string, w: string): -1 | 0 | 1 {
  const pv = parseSemver(v);
  const pw = parseSemver(w);
  if (pv === undefined && pw === undefined) return 0;
  if (pv === undefined) return -1;
  if (pw === undefined) return 1;
  return compareInt(pv.major, pw.major) || compareInt(pv.minor, pw.minor) ||
    compareInt(pv.patch, pw.patch) || comparePrerelease(pv.prerelease, pw.prerelease);
}

/** Sorts versions newest first (a copy); ties keep string order, as Go's semver.Sort does reversed. */
export function sortSemverDescending(versions: readonly string[]): string[] {
  return [...versions].sort((a, b) => compareSemver(b, a) || (a < b ? 1 : a > b ? -1 : 0));
}

/** The canonical form: missing minor/patch filled in, build metadata dropped; "" when invalid. */
export function canonicalSemver(v: string): string {
  const p = parseSemver(v);
  if (p === undefined) return "";
  if (p.build !== "") return v.slice(0, v.length - p.build.length);
  return v + p.short;
}

/**
 * Reports whether v is a canonical module version, as Go's module.CanonicalVersion
 * spells it: "v1.2.0", "v1.2.0-rc.1", "v2.0.0+incompatible"; not the shorthands
 * "v1" and "v1.2", nor other build metadata. Only these name a module version that
 * can be fetched.
 */
export function isCanonicalVersion(v: string): boolean {
  const canonical = canonicalSemver(v);
  return canonical !== "" && (v === canonical || v === canonical + "+incompatible");
}

/** The major prefix, "v2" for "v2.1.0"; "" when invalid. */
export function semverMajor(v: string): string {
  const p = parseSemver(v);
  return p === undefined ? "" : `v${p.major}`;
}

/** The major.minor prefix, "v2.1" for "v2.1.0"; "" when invalid. */
export function semverMajorMinor(v: string): string {
  const p = parseSemver(v);
  return p === undefined ? "" : `v${p.major}.${p.minor}`;
}

/** Reports whether v is a valid version with a prerelease part (pseudo-versions included). */
export function isPrerelease(v: string): boolean {
  const p = parseSemver(v);
  return p !== undefined && p.prerelease !== "";
}

const PSEUDO_VERSION_REGEXP =
  /^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/**
 * Reports whether v is a pseudo-version ("v0.0.0-20240102030405-abcdef123456"), as
 * Go's module.IsPseudoVersion decides.
 */
export function isPseudoVersion(v: string): boolean {
  return (v.match(/-/g) ?? []).length >= 2 && isValidSemver(v) && PSEUDO_VERSION_REGEXP.test(v);
}

/** Reports whether v carries the "+incompatible" build suffix of a pre-modules v2+ release. */
export function isIncompatible(v: string): boolean {
  return parseSemver(v)?.build === "+incompatible";
}

function leadingInt(s: string): string | undefined {
  let i = 0;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  if (i === 0 || (s[0] === "0" && i !== 1)) return undefined;
  return s.slice(0, i);
}

function validIdentifiers(s: string, noLeadingZeros: boolean): boolean {
  const parts = s.split(".");
  return parts.every((id) =>
    /^[0-9A-Za-z-]+$/.test(id) && !(noLeadingZeros && /^0[0-9]+$/.test(id))
  );
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function compareInt(x: string, y: string): -1 | 0 | 1 {
  if (x === y) return 0;
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : 1;
}

function comparePrerelease(x: string, y: string): -1 | 0 | 1 {
  if (x === y) return 0;
  if (x === "") return 1;
  if (y === "") return -1;
  const xs = x.slice(1).split(".");
  const ys = y.slice(1).split(".");
  for (let i = 0; i < xs.length && i < ys.length; i++) {
    const dx = xs[i] ?? "";
    const dy = ys[i] ?? "";
    if (dx === dy) continue;
    const nx = /^[0-9]+$/.test(dx);
    const ny = /^[0-9]+$/.test(dy);
    if (nx !== ny) return nx ? -1 : 1;
    if (nx) return compareInt(dx, dy);
    return dx < dy ? -1 : 1;
  }
  return xs.length < ys.length ? -1 : xs.length > ys.length ? 1 : 0;
}
