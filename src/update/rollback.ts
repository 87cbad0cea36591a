/**
 * Rolling back a failed new version: the previous binary back at the service path,
 * the failed version stopped and the previous one started, automatic updates paused,
 * the failed release unscheduled and its binary removed, all recorded in one write
 * (docs/behaviour.md section 4.4).
 *
 * @module
 */

import { type BuildInfo, readBuildInfo } from "../buildinfo/mod.ts";
import { errorMessage } from "../errors.ts";
import { type InstallJournal, type ScheduledUpdate, withHistory } from "../state/state.ts";
import { processMark } from "../supervise/process_mark.ts";
import type { ServiceProcess } from "../supervise/supervisor.ts";
import { failpoint } from "./failpoint.ts";
import { type PreparedSwitch, prepareSwitch, versionFileName } from "./install.ts";
import type { InstallWrites } from "./install_writes.ts";
import { advance } from "./journal.ts";
import type { Role } from "./lifetime.ts";
import { release, setVersionMetrics, type TransactionOptions } from "./transaction_deps.ts";
import { historyEntry, serviceInfo } from "./types.ts";

/**
 * Puts the previous binary back, restarts it and pauses automatic updates; the
 * failed version, which runs now, is stopped first.
 */
export async function rollBack(
  journal: InstallJournal,
  problem: string,
  o: TransactionOptions,
  writes: InstallWrites,
): Promise<void> {
  o.phase("rolling back");
  const failed = journal.to;
  const svc = o.running.info;
  o.log.error("new version failed, rolling back and pausing automatic updates", {
    err: problem,
    prevbinary: journal.from.binary,
    prevversion: journal.from.version,
    prevgoversion: journal.from.goVersion,
  });
  o.metrics.serviceRollbacks.inc();
  const rolling = journal.phase === "rolling back"
    ? journal
    : advance(journal, "rolling back", { reason: problem });
  await writes.commitAfter({ ...o.store.state, install: rolling });
  await failpoint("rolling-back", o.log, o.signal);
  let prepared: PreparedSwitch | undefined;
  let previousInfo: BuildInfo | undefined;
  try {
    previousInfo = await readBuildInfo(journal.from.binary);
    prepared = await prepareSwitch(
      journal.from.binary,
      o.cmdAbs,
      versionFileName(svc.modPath, svc.pkgDir, failed.version, failed.goVersion, svc.goos),
    );
  } catch (err) {
    // The service must not stay stopped: run what CMD points to, and say so.
    o.log.error("cannot switch back to the previous binary; starting the current one", {
      err: errorMessage(err),
    });
  }
  await o.lifetime.stop();
  let role: Role = "service";
  try {
    prepared?.commit();
    if (prepared !== undefined && previousInfo !== undefined) {
      o.running.info = serviceInfo(previousInfo);
      role = "rolled back";
    }
  } catch (err) {
    await prepared?.abort();
    prepared = undefined;
    o.log.error("cannot switch back to the previous binary; starting the current one", {
      err: errorMessage(err),
    });
  }
  setVersionMetrics(o.metrics, o.running.info);
  const proc = o.lifetime.start(role);
  await prepared?.sync().catch(() => {});
  await recordRollback(journal, problem, prepared?.previous, proc, o, writes);
}

/** Records a rollback in one write: paused, the failed release unscheduled, history, no journal. */
export async function recordRollback(
  journal: InstallJournal,
  problem: string,
  failedKept: string | undefined,
  proc: ServiceProcess | undefined,
  o: TransactionOptions,
  writes: InstallWrites,
): Promise<void> {
  const failed = journal.to;
  const reason =
    `${o.running.info.modPath} ${failed.version} ${failed.goVersion} failed after an update: ${problem}`;
  const bad = (u: ScheduledUpdate) =>
    u.which === "svc" && u.version === failed.version && u.goVersion === failed.goVersion;
  const s = o.store.state;
  await writes.commitAfter(withHistory(
    {
      ...s,
      install: undefined,
      pauseReason: reason,
      scheduled: s.scheduled.filter((u) => !bad(u)),
      ...(proc ? { service: processMark(proc.pid) } : {}),
    },
    historyEntry(
      {
        outcome: "rolled back",
        from: release(journal.from),
        to: release(failed),
        reason: problem,
      },
      { which: "svc", manual: journal.manual },
      o.clock.now(),
    ),
  ));
  o.metrics.updates.inc({ which: "svc", outcome: "rolled back" });
  o.metrics.updatesPaused.set(1);
  if (failedKept !== undefined) await writes.removeUnused(failedKept);
  writes.report(true, problem);
  o.log.warn("rolled back after failed update", {
    version: o.running.info.version,
    goversion: o.running.info.goVersion,
  });
}
