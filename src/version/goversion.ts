/**
 * Go toolchain versions ("go1.9", "go1.20", "go1.21rc1", "go1.21.0", "go1.22.3"),
 * parsed and ordered exactly as Go's go/version package does.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

/** A parsed toolchain version. Numbers are decimal strings, as in Go's internal/gover. */
export interface GoVersion {
  /** Major version, "1". */
  major: string;
  /** Minor version, "23"; "0" for the bare "go1", which Go reads as 1.0.0. */
  minor: string;
  /**
   * Patch version, "5". "" for a language version from go1.21 on ("go1.21") and for
   * prereleases ("go1.21rc1"); before go1.21 a missing patch means "0".
   */
  patch: string;
  /** Prerelease kind: "" for a release, else "alpha", "beta" or "rc" (any lowercase word parses). */
  kind: string;
  /** Prerelease number, "1" in "go1.21rc1"; "" when absent. */
  pre: string;
}

/**
 * Parses a toolchain version with its "go" prefix. A "-suffix" (as in
 * "go1.23.4-bigcorp") is ignored, as Go does. Returns undefined when invalid;
 * note that Go itself rejects a prerelease of a patch release such as the
 * historical "go1.9.2rc2".
 */
export function parseGoVersion(v: string): GoVersion | undefined {
  const dash = v.indexOf("-");
  const s = dash === -1 ? v : v.slice(0, dash);
  if (!s.startsWith("go")) return undefined;
  let x = s.slice(2);
  const major = cutInt(x);
  if (major === undefined) return undefined;
  x = x.slice(major.length);
  if (x === "") return { major, minor: "0", patch: "0", kind: "", pre: "" };
  if (x[0] !== ".") return undefined;
  const minor = cutInt(x.slice(1));
  if (minor === undefined) return undefined;
  x = x.slice(1 + minor.length);
  if (x === "") {
    // From go1.21 on, "go1.21" is the language version, lower than go1.21rc1 and go1.21.0.
    return { major, minor, patch: compareInt(minor, "21") < 0 ? "0" : "", kind: "", pre: "" };
  }
  if (x[0] === ".") {
    const patch = cutInt(x.slice(1));
    if (patch === undefined || x.length !== 1 + patch.length) return undefined;
    return { major, minor, patch, kind: "", pre: "" };
  }
  const kind = /^[a-z]+/.exec(x)?.[0];
  if (kind === undefined) return undefined;
  x = x.slice(kind.length);
  if (x === "") return { major, minor, patch: "", kind, pre: "" };
  const pre = cutInt(x);
  if (pre === undefined || pre.length !== x.length) return undefined;
  return { major, minor, patch: "", kind, pre };
}

/**
 * The toolchain version a binary's Go version is based on, as ysco uses it for
 * decisions and fetches: a GOEXPERIMENT build reports "go1.23.5 X:nocoverageredesign"
 * (runtime.Version), a vendor toolchain "go1.23.4-bigcorp" (the suffix Go ignores);
 * both are based on the release in front ("go1.23.5", "go1.23.4"). The same text
 * for a canonical version; undefined when there is no valid version in front
 * ("devel go1.24-1a2b3c4 ...").
 */
export function goVersionBase(v: string): string | undefined {
  const word = v.split(" ", 1)[0] ?? "";
  const dash = word.indexOf("-");
  const base = dash === -1 ? word : word.slice(0, dash);
  return parseGoVersion(base) === undefined ? undefined : base;
}

/**
 * Reports whether v is a toolchain version as Go's release list spells them: valid,
 * without suffix or settings ("go1.23.5", "go1.24rc1", not "go1.23.5-bigcorp").
 */
export function isCanonicalGoVersion(v: string): boolean {
  return goVersionBase(v) === v;
}

/** Reports whether v is a valid toolchain version ("go1.22.3"). */
export function isValidGoVersion(v: string): boolean {
  return parseGoVersion(v) !== undefined;
}

/**
 * Compares toolchain versions as Go's go/version.Compare: -1, 0 or +1.
 * go1.21 < go1.21rc1 < go1.21.0 < go1.21.1 < go1.22rc1; invalid versions (including
 * "") are lower than valid ones and equal to each other.
 */
export function compareGoVersion(x: string, y: string): -1 | 0 | 1 {
  const vx = parseGoVersion(x) ?? ZERO;
  const vy = parseGoVersion(y) ?? ZERO;
  return compareInt(vx.major, vy.major) || compareInt(vx.minor, vy.minor) ||
    compareInt(vx.patch, vy.patch) || compareString(vx.kind, vy.kind) ||
    compareInt(vx.pre, vy.pre);
}

/** Reports whether v is a valid final release (no rc/beta, not a bare language version from go1.21 on). */
export function isGoRelease(v: string): boolean {
  const p = parseGoVersion(v);
  return p !== undefined && p.kind === "" && p.patch !== "";
}

/** The release line of a version, "go1.23" for "go1.23.5" and "go1.23rc1"; "" when invalid. */
export function goVersionLine(v: string): string {
  const p = parseGoVersion(v);
  return p === undefined ? "" : `go${p.major}.${p.minor}`;
}

const ZERO: GoVersion = { major: "", minor: "", patch: "", kind: "", pre: "" };

function cutInt(x: string): string | undefined {
  const m = /^[0-9]+/.exec(x)?.[0];
  if (m === undefined || (m[0] === "0" && m.length !== 1)) return undefined;
  return m;
}

function compareInt(x: string, y: string): -1 | 0 | 1 {
  if (x === y) return 0;
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : 1;
}

function compareString(x: string, y: string): -1 | 0 | 1 {
  return x === y ? 0 : x < y ? -1 : 1;
}
