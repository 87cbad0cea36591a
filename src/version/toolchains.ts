/**
 * Classifies Go toolchain releases into the current release, the newest release of
 * the previous minor line (together "supported"), and an upcoming release candidate.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import {
  compareGoVersion,
  goVersionLine,
  isCanonicalGoVersion,
  isGoRelease,
  parseGoVersion,
} from "./goversion.ts";

/** The toolchains that matter for update decisions; "" where there is none. */
export interface Toolchains {
  /** Newest final release, e.g. "go1.23.5". */
  cur: string;
  /** Newest final release of an older minor line than cur, e.g. "go1.22.11". */
  prev: string;
  /** A prerelease newer than cur, e.g. "go1.24rc2". */
  next: string;
}

/** Toolchains parsed from the golang.org/toolchain module's version list. */
export interface ToolchainList {
  toolchains: Toolchains;
  /** Distinct Go versions found, newest first. */
  versions: string[];
  /** Lines that are not toolchain versions, with the reason. */
  skipped: Array<{ line: string; reason: string }>;
}

const TOOLCHAIN_PREFIX = "v0.0.1-";

/**
 * Extracts the Go version from a golang.org/toolchain module version:
 * "v0.0.1-go1.23.2.linux-amd64" gives "go1.23.2". Returns an error text instead
 * when the line is not of that shape.
 */
export function goVersionOfToolchainModule(line: string): string | { error: string } {
  if (!line.startsWith(TOOLCHAIN_PREFIX)) return { error: `missing prefix "${TOOLCHAIN_PREFIX}"` };
  const rest = line.slice(TOOLCHAIN_PREFIX.length);
  const dot = rest.lastIndexOf(".");
  if (dot === -1) return { error: "missing platform suffix" };
  return rest.slice(0, dot);
}

/**
 * Parses the lines of `golang.org/toolchain/@v/list` and classifies them. Unknown
 * shapes are skipped and reported, not fatal: the list is long and old.
 */
export function parseToolchainList(lines: readonly string[]): ToolchainList {
  const skipped: ToolchainList["skipped"] = [];
  const found = new Set<string>();
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "") continue;
    const gv = goVersionOfToolchainModule(line);
    if (typeof gv !== "string") {
      skipped.push({ line, reason: gv.error });
    } else if (!isCanonicalGoVersion(gv) || !gv.startsWith("go1.")) {
      // Includes the historical go1.9.2rc2, which Go's own version ordering rejects.
      skipped.push({ line, reason: `unrecognized Go version "${gv}"` });
    } else {
      found.add(gv);
    }
  }
  const versions = [...found].sort((a, b) => compareGoVersion(b, a));
  return { toolchains: classifyToolchains(versions), versions, skipped };
}

/**
 * Classifies Go versions into cur, prev and next. next is the newest version if it
 * is a prerelease; cur the newest final release; prev the newest final release of
 * an older minor line.
 */
export function classifyToolchains(goVersions: readonly string[]): Toolchains {
  const sorted = goVersions.filter((v) => parseGoVersion(v) !== undefined)
    .sort((a, b) => compareGoVersion(b, a));
  const first = sorted[0];
  const next = first !== undefined && parseGoVersion(first)?.kind !== "" ? first : "";
  const cur = sorted.find(isGoRelease) ?? "";
  const curLine = goVersionLine(cur);
  const prev = cur === ""
    ? ""
    : sorted.find((v) =>
      isGoRelease(v) && goVersionLine(v) !== curLine &&
      compareGoVersion(v, cur) < 0
    ) ?? "";
  return { cur, prev, next };
}
