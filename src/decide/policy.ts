/**
 * Update policies: given the current release, the versions and toolchains found
 * and the policies, which module version and Go toolchain to install, and why.
 *
 * The decision algorithm is the original's (docs/behaviour.md section 6.3, every row of its test
 * table holds), with these fixes (docs/behaviour.md section 12):
 * - Prerelease candidates, pseudo-versions included, are never picked
 *   automatically; a running prerelease still moves to its release.
 * - Versions that do not parse are ignored instead of failing the decision;
 *   `+incompatible` versions compare by their semantic version.
 * - Candidates are sorted here, so the order of the list found does not matter.
 * - A toolchain-only update is decided even when no version of the current major
 *   is listed (foundMajor is reported, but no longer stops anything).
 * - The toolchain never moves to "" (no toolchain information) or to an older
 *   toolchain than the reference's (a stale toolchain list).
 * - A Go version with GOEXPERIMENT settings or a vendor suffix
 *   ("go1.23.5 X:nocoverageredesign", "go1.23.4-bigcorp") is read as the release it
 *   is based on, for the decision and as the toolchain to fetch, and the reason says so.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import type { ToolchainPolicy, VersionPolicy } from "../config/config.ts";
import {
  compareSemver,
  isPrerelease,
  isPseudoVersion,
  parseSemver,
  type Semver,
} from "../version/semver.ts";
import { compareGoVersion, goVersionBase } from "../version/goversion.ts";
import { outsideText, quoteCut } from "../errors.ts";
import type { Toolchains } from "../version/toolchains.ts";
import type { Which } from "../state/state.ts";

/** A version found by discovery, with flags discovery may already know. */
export interface FoundVersion {
  version: string;
  /** A prerelease ("v1.2.0-rc.1"); derived from version when absent. */
  prerelease?: boolean;
  /** A pseudo-version ("v0.0.0-20240102030405-abcdef123456"); derived when absent. */
  pseudo?: boolean;
}

/** What discovery found: module versions (newest first, any order is accepted) and toolchains. */
export interface Found {
  versions: readonly (string | FoundVersion)[];
  toolchains: Toolchains;
}

/** The release decisions start from. */
export interface Current {
  /** Reference version: the running one, or the last one already scheduled. */
  version: string;
  /**
   * Reference toolchain, e.g. "go1.23.2"; "go1.23.2 X:nocoverageredesign" counts as
   * "go1.23.2".
   */
  goVersion: string;
  /**
   * Toolchain of the running binary, used when goVersion is not a plain release
   * ("go1.24rc1", "go1.20").
   * @default goVersion
   */
  runningGoVersion?: string;
}

/** The policies for one program. */
export interface Policies {
  version: VersionPolicy;
  toolchain: ToolchainPolicy;
}

/** What to install, and why. */
export interface Decision {
  /** Version to install; the reference version when no new version is picked. */
  version: string;
  /** Toolchain to install. */
  goVersion: string;
  /** Whether version or goVersion differs from the reference. */
  update: boolean;
  /** Whether any version with the reference's major was found. */
  foundMajor: boolean;
  /** The newest release of the reference's major newer than it, whatever the policy; "". */
  newer: string;
  /** Prereleases newer than the decided version, skipped: they are never picked automatically. */
  skippedPrereleases: string[];
  /** Found entries that are not module versions, ignored. */
  ignored: string[];
  /** Human-readable reason: "patch release v1.0.1 of v1.0.x; toolchain follows to go1.23.5 with the new release". */
  reason: string;
}

/** The policy settings of the configuration (`[policy]`). */
export interface PolicyConfig {
  service: VersionPolicy;
  self: VersionPolicy;
  service_toolchain: ToolchainPolicy;
  self_toolchain: ToolchainPolicy;
}

/** The policies for the service ("svc") or ysco itself ("self") from the configuration. */
export function policiesFor(config: PolicyConfig, which: Which): Policies {
  return which === "svc"
    ? { version: config.service, toolchain: config.service_toolchain }
    : { version: config.self, toolchain: config.self_toolchain };
}

const GO_RELEASE_REGEXP = /^go([0-9]+)\.([0-9]+)\.([0-9]+)$/;

/**
 * Decides what to install for current under policy, from what discovery found.
 * Reference 6.3 with the fixes listed in this module's documentation.
 */
export function pickUpdate(current: Current, found: Found, policy: Policies): Decision {
  const ref = parseSemver(current.version);
  const toolchain = pickToolchain(current, found.toolchains, policy.toolchain);
  if (ref === undefined) {
    return {
      version: current.version,
      goVersion: current.goVersion,
      update: false,
      foundMajor: false,
      newer: "",
      skippedPrereleases: [],
      ignored: [],
      reason: `current version ${quoteCut(current.version)} is not a module version, so ysco ` +
        "cannot tell which version is newer",
    };
  }

  const ignored: string[] = [];
  const candidates: Array<{ version: string; parsed: Semver; prerelease: boolean }> = [];
  for (const entry of found.versions) {
    const f: FoundVersion = typeof entry === "string" ? { version: entry } : entry;
    const parsed = parseSemver(f.version);
    if (parsed === undefined) {
      ignored.push(f.version);
      continue;
    }
    const prerelease = f.prerelease === true || f.pseudo === true || isPrerelease(f.version) ||
      isPseudoVersion(f.version);
    candidates.push({ version: f.version, parsed, prerelease });
  }
  candidates.sort((a, b) => compareSemver(b.version, a.version));

  const sameMajor = candidates.filter((c) => c.parsed.major === ref.major);
  const newer = sameMajor.filter((c) => compareSemver(c.version, current.version) > 0);
  const newerReleases = newer.filter((c) => !c.prerelease);
  const eligible = newerReleases.filter((c) =>
    policy.version === "minor" ||
    (policy.version === "patch" && c.parsed.minor === ref.minor)
  );
  const pick = eligible[0];
  const skippedPrereleases = newer.filter((c) =>
    c.prerelease && (pick === undefined || compareSemver(c.version, pick.version) > 0)
  ).map((c) => c.version);
  const base = {
    foundMajor: sameMajor.length > 0,
    newer: newerReleases[0]?.version ?? "",
    skippedPrereleases,
    ignored,
  };

  if (pick !== undefined) {
    const follow = policy.toolchain === "follow" &&
      found.toolchains.cur !== "" &&
      compareGoVersion(found.toolchains.cur, toolchain.goVersion) >= 0;
    const goVersion = follow ? found.toolchains.cur : toolchain.goVersion;
    const toolchainReason = follow
      ? `toolchain follows to ${goVersion} with the new release`
      : toolchain.reason;
    return {
      version: pick.version,
      goVersion,
      update: true,
      ...base,
      reason: `${
        versionReason(current.version, ref, pick.version, pick.parsed)
      }; ${toolchainReason}`,
    };
  }

  const why = noVersionReason(current.version, ref, policy.version, {
    newer: base.newer,
    foundMajor: base.foundMajor,
    listed: found.versions.length,
    skippedPrereleases,
  });
  return {
    version: current.version,
    goVersion: toolchain.goVersion,
    update: toolchain.goVersion !== (goVersionBase(current.goVersion) ?? current.goVersion),
    ...base,
    reason: `${why}; ${toolchain.reason}`,
  };
}

/** The toolchain for the reference release alone (first step of docs/behaviour.md section 6.3), with its reason. */
export function pickToolchain(
  current: Current,
  toolchains: Toolchains,
  policy: ToolchainPolicy,
): { goVersion: string; reason: string } {
  const refText = current.goVersion;
  const refGo = goVersionBase(refText) ?? refText;
  const readAs = refGo === refText
    ? ""
    : `toolchain ${outsideText(refText)} counts as ${refGo}, the release it is based on; `;
  const picked = pickFor(refGo, current.runningGoVersion, toolchains, policy);
  return { goVersion: picked.goVersion, reason: readAs + picked.reason };
}

function pickFor(
  refGo: string,
  runningGoVersion: string | undefined,
  toolchains: Toolchains,
  policy: ToolchainPolicy,
): { goVersion: string; reason: string } {
  const { cur, prev } = toolchains;
  const stay = (why: string) => ({ goVersion: refGo, reason: `toolchain stays at ${refGo}${why}` });
  /** Moves to `to`, the newest known release of `which`, unless that is older. */
  const move = (to: string, which: string, reason: string) => {
    if (to === "") return stay(" (no toolchain information)");
    if (compareGoVersion(to, refGo) < 0) return stay(` (newer than ${which}, ${to})`);
    if (to === refGo) return stay("");
    return { goVersion: to, reason };
  };
  const newest = "the newest known release";
  switch (policy) {
    case "manual":
      return stay(" (toolchain policy manual)");
    case "minor":
      return move(cur, newest, `toolchain moves to the newest Go, ${cur}`);
    case "patch":
    case "supported":
    case "follow": {
      const m = GO_RELEASE_REGEXP.exec(refGo);
      if (m === null) {
        const runningText = runningGoVersion ?? refGo;
        const running = goVersionBase(runningText) ?? runningText;
        return {
          goVersion: running,
          reason: running === refGo
            ? `toolchain stays at ${outsideText(refGo)} (not a release ysco can compare)`
            : `toolchain ${
              outsideText(refGo)
            } is not a release ysco can compare, sticking to the running ${outsideText(running)}`,
        };
      }
      const line = `go${m[1]}.${m[2]}`;
      const lineNewest = `the newest known ${line} release`;
      if (cur.startsWith(`${line}.`)) {
        return move(cur, lineNewest, `toolchain patch release ${cur} of ${line}`);
      }
      if (prev.startsWith(`${line}.`)) {
        return move(prev, lineNewest, `toolchain patch release ${prev} of ${line}`);
      }
      if (policy === "patch") {
        return stay(
          cur === "" ? " (no toolchain information)" : ` (policy patch; ${line} is not supported)`,
        );
      }
      if (cur !== "" && compareGoVersion(refGo, cur) > 0) {
        return stay(` (newer than ${newest}, ${cur})`);
      }
      return move(
        prev,
        "the previous line's newest known release",
        `toolchain ${line} is no longer supported, moving to ${prev}`,
      );
    }
  }
}

function versionReason(refText: string, ref: Semver, version: string, v: Semver): string {
  if (v.major === ref.major && v.minor === ref.minor && v.patch === ref.patch) {
    return `release ${version} of prerelease ${refText}`;
  }
  if (v.minor === ref.minor) return `patch release ${version} of v${ref.major}.${ref.minor}.x`;
  return `minor release ${version} of v${ref.major}.x`;
}

function noVersionReason(
  refText: string,
  ref: Semver,
  policy: VersionPolicy,
  f: { newer: string; foundMajor: boolean; listed: number; skippedPrereleases: string[] },
): string {
  if (policy === "manual") {
    return f.newer === ""
      ? `no newer version than ${refText} (version policy manual)`
      : `version policy manual: ${f.newer} is not installed automatically`;
  }
  if (f.newer !== "") {
    return `${f.newer} is newer, but version policy patch takes only v${ref.major}.${ref.minor}.x`;
  }
  if (!f.foundMajor) {
    return f.listed === 0
      ? "no versions listed"
      : `no version of major v${ref.major} listed (${f.listed} other versions)`;
  }
  if (f.skippedPrereleases.length > 0) {
    return `no newer release than ${refText} (prereleases such as ${
      f.skippedPrereleases[0]
    } are never installed automatically)`;
  }
  return `no newer version than ${refText}`;
}
