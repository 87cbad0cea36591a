/**
 * `GET /json`: the status with the original's field names (which scripts and the
 * original's integration test read), plus ysco's additions. No configuration text.
 *
 * @module
 */

import type { StatusView } from "../update/types.ts";

/** The status as `/json` gives it: the original's field names, plus ysco's additions. */
export function statusJson(
  s: StatusView,
  argv: string[],
  configFile: string,
  yscoVersion: string,
): Record<string, unknown> {
  const check = s.lastCheck;
  const versions = check?.svc?.versions.map((v) => v.version) ?? [];
  if (s.svc.version !== "" && !versions.includes(s.svc.version)) versions.push(s.svc.version);
  const tc = check?.toolchains?.toolchains;
  return {
    SvcModPath: s.svc.modPath,
    SvcPkgDir: s.svc.pkgDir,
    SvcVersion: s.svc.version,
    SvcGoVersion: s.svc.goVersion,
    SelfModPath: "ysco",
    SelfPkgDir: "/",
    SelfVersion: yscoVersion,
    SelfGoVersion: "",
    UpdateBusy: s.busy !== undefined,
    PauseReason: s.state.pauseReason,
    Scheduled: s.state.scheduled.map((u) => ({
      Time: u.time,
      Which: u.which,
      ModPath: u.modPath,
      PkgDir: u.pkgDir,
      Version: u.version,
      GoVersion: u.goVersion,
    })),
    Backoff: s.state.backoff,
    BackoffReason: s.state.backoffReason,
    SvcVersionsError: check?.svcError ?? "",
    SvcVersions: versions,
    SelfVersionsError: check?.selfError ?? "",
    SelfVersions: check?.selfVersions ?? [],
    GoVersionsError: check?.toolchainsError ?? "",
    GoVersions: tc ? [tc.cur, tc.prev, tc.next].filter((v) => v !== "") : [],
    Argv: argv,
    ConfigPath: configFile,
    Links: s.config.links.map((l) => ({ URL: l.url, Text: l.text })),
    // ysco's additions.
    Pid: s.pid ?? 0,
    Started: s.startedAt ?? "",
    Busy: s.busy ?? null,
    NextUpdate: s.nextUpdate ?? null,
    NextCheck: s.nextCheck ?? "",
    LastCheck: check?.time ?? "",
    SvcDecision: check?.svcDecision ?? "",
    NewMajor: check?.svc?.newMajor
      ? { Module: check.svc.newMajor.module, Version: check.svc.newMajor.version.version }
      : null,
    History: s.state.history,
    Fleet: s.fleet ?? null,
  };
}
