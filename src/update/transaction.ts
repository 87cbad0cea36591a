/**
 * One update of the service as a durable transaction: what is installed, in which
 * order, and what is written to the state before each step that cannot be taken
 * back (see src/update/journal.ts for the phases, docs/design.md for the reasons).
 *
 * Before the service is stopped, everything that can fail is done: the fleet slot,
 * the before command, the download and verification (aborted at once when ysco is
 * told to stop), the file's fsync, the new symlink next to the old one, and the
 * journal. After the stop only a rename and a spawn are left. The new version is
 * then watched (quick exit, health check, soak) and confirmed, or rolled back:
 * previous binary restored, automatic updates paused. A state write that fails
 * before the switch fails the update and nothing is left of it; after the switch
 * it is logged, counted and reported with the outcome.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { type BuildInfo, readBuildInfo } from "../buildinfo/mod.ts";
import type { Config } from "../config/config.ts";
import { withoutSuperseded } from "../decide/timing.ts";
import { errorMessage } from "../errors.ts";
import type { FleetSlot } from "../fleet/gate.ts";
import type { Logger } from "../log.ts";
import { type InstallJournal, type Release, type State, withHistory } from "../state/state.ts";
import { processMark } from "../supervise/process_mark.ts";
import type { ServiceProcess } from "../supervise/supervisor.ts";
import { failpoint } from "./failpoint.ts";
import { FleetWait } from "./fleet_wait.ts";
import { runHook } from "./hooks.ts";
import {
  currentBinary,
  type PreparedSwitch,
  prepareSwitch,
  removeOldBinary,
  versionFileName,
} from "./install.ts";
import { InstallWrites } from "./install_writes.ts";
import { advance } from "./journal.ts";
import { recordRollback, rollBack } from "./rollback.ts";
import {
  release,
  setVersionMetrics,
  type TransactionOptions,
  UpdateEnd,
} from "./transaction_deps.ts";
import {
  historyEntry,
  releaseText,
  type ServiceInfo,
  serviceInfo,
  type UpdateRequest,
  type UpdateResult,
} from "./types.ts";
import { type Verdict, watchNewVersion } from "./watch.ts";

export {
  type Running,
  setVersionMetrics,
  type TransactionOptions,
  UpdateEnd,
} from "./transaction_deps.ts";

/** Service updates. */
export class ServiceTransaction {
  #o: TransactionOptions;
  #writes: InstallWrites;
  #fleetWait = new FleetWait();

  /** @param options what it works with */
  constructor(options: TransactionOptions) {
    this.#o = options;
    this.#writes = new InstallWrites(options);
  }

  /**
   * Gives up a wait for a fleet slot when its update is no longer wanted: a scheduled
   * update that left the schedule (a newer version replaced it, or an operator
   * cancelled it), or when automatic updates were paused. Manual updates wait until
   * they get their slot or ysco stops.
   */
  checkFleetWait(state: State): void {
    this.#fleetWait.check(state);
  }

  /** Installs request.version/goVersion and watches it; resolves when the update has ended. */
  async update(request: UpdateRequest): Promise<UpdateResult> {
    const o = this.#o;
    const t0 = o.clock.now();
    const svc = o.running.info;
    const config = o.config();
    const from: Release = { version: svc.version, goVersion: svc.goVersion };
    const to: Release = { version: request.version, goVersion: request.goVersion };
    const log = o.log.with({ which: "svc", version: to.version, goversion: to.goVersion });
    const env = hookEnv(svc, from, to);
    if (request.manual && o.store.state.backoff > 0) {
      o.store.set({ ...o.store.state, backoff: 0, backoffReason: "" });
    }
    let slot: FleetSlot | undefined;
    let result: UpdateResult;
    let journal: InstallJournal | undefined;
    let switched = false;
    try {
      // The fleet slot first, so that the before command runs right before the
      // install, not hours before it while the host waits for its turn.
      if (o.gate) slot = await this.#fleetWait.acquire(o.gate, request, to, o);
      if (config.update.before !== "") {
        o.phase("running the before command");
        const problem = await runHook(config.update.before, env, { signal: o.signal });
        this.#throwIfEnding();
        if (problem !== undefined) throw new UpdateEnd("cancelled", `before command ${problem}`);
      }
      const fromBinary = await currentBinary(o.cmdAbs);
      const final = join(
        dirname(o.cmdAbs),
        versionFileName(svc.modPath, svc.pkgDir, to.version, to.goVersion, svc.goos),
      );
      journal = {
        phase: "downloading",
        time: new Date(t0).toISOString(),
        manual: request.manual,
        from: { ...from, binary: fromBinary },
        to: { ...to, binary: final },
      };
      await this.#writes.commitBefore({ ...o.store.state, install: journal });
      o.phase("downloading");
      log.info("updating service", { from: releaseText(from) });
      const ready = await this.#download(journal, svc, config);
      journal = ready.journal;
      if (slot?.signal.aborted) {
        await this.#writes.undo(ready.prepared, journal);
        throw new UpdateEnd("failed", "lost the fleet slot while downloading");
      }
      const proc = await this.#switchAndStart(journal, ready.prepared, ready.info, log);
      switched = true;
      journal = o.store.state.install ?? journal;
      result = await this.#watchAndEnd(proc, journal, from, to, log, slot);
      slot = undefined;
    } catch (err) {
      const end = err instanceof UpdateEnd ? err : new UpdateEnd("failed", errorMessage(err));
      result = { outcome: end.outcome, from, to, reason: end.message };
      log.error(end.outcome === "cancelled" ? "update cancelled" : "update failed", {
        err: end.message,
      });
      await slot?.abandon(end.message);
      if (end.outcome === "failed") {
        o.gate?.report({ ...from, healthy: true, lastError: end.message });
        if (!request.manual) o.metrics.updateErrors.inc();
      }
      // A scheduled update that failed or was cancelled by the before command stays
      // scheduled, and is tried again after a growing backoff.
      if (!request.manual && end.backoff) {
        const s = o.store.state;
        o.store.set({ ...s, backoff: s.backoff + 1, backoffReason: end.message });
      }
      // Before the switch nothing of the install is left; after it (a bug), the
      // journal stays so that the next start recovers the install.
      if (!switched && o.store.state.install !== undefined) {
        o.store.set({ ...o.store.state, install: undefined });
      }
      await this.#writes.record(result, request);
    }
    o.metrics.updateDuration.observe((o.clock.now() - t0) / 1000);
    log.info(result.outcome === "installed" ? "update installed" : "update ended", {
      outcome: result.outcome,
      from: releaseText(from),
      ...(result.reason ? { reason: result.reason } : {}),
    });
    if (config.update.after !== "" && !o.signal.aborted) {
      const problem = await runHook(config.update.after, {
        ...env,
        YSCO_OUTCOME: result.outcome,
        YSCO_REASON: result.reason ?? "",
      }, { signal: o.signal });
      if (problem !== undefined) log.warn("after command failed", { err: problem });
    }
    return result;
  }

  /**
   * Watches a new version that ysco found installed but unconfirmed at its start (a
   * crash or a stop during the watch), then confirms it or rolls it back.
   */
  async rewatch(journal: InstallJournal): Promise<UpdateResult> {
    const o = this.#o;
    const from = release(journal.from);
    const to = release(journal.to);
    const log = o.log.with({ which: "svc", version: to.version, goversion: to.goVersion });
    log.warn("the last update was not confirmed: starting the new version and watching it again", {
      phase: journal.phase,
    });
    const proc = o.lifetime.start("new");
    if (proc === undefined) {
      return { outcome: "cancelled", from, to, reason: "ysco is stopping" };
    }
    await this.#writes.commitAfter({
      ...o.store.state,
      install: { ...journal, phase: "started", process: processMark(proc.pid) },
    });
    return await this.#watchAndEnd(
      proc,
      o.store.state.install ?? journal,
      from,
      to,
      log,
      undefined,
    );
  }

  /**
   * Finishes an interrupted install that could not be watched again (its new binary
   * is missing or damaged, or the rollback itself was interrupted): recovery has put
   * the previous binary back at the service path already; this starts it, pauses
   * automatic updates and records the rollback.
   * @param failedKept where the failed binary is now (removed unless still needed)
   */
  async rollbackAtStart(
    journal: InstallJournal,
    problem: string,
    failedKept: string,
  ): Promise<UpdateResult> {
    const o = this.#o;
    o.log.error("the last update cannot be completed, rolled back to the previous binary", {
      err: problem,
      prevbinary: journal.from.binary,
    });
    o.metrics.serviceRollbacks.inc();
    setVersionMetrics(o.metrics, o.running.info);
    const proc = o.lifetime.start("rolled back");
    await recordRollback(journal, problem, failedKept, proc, o, this.#writes);
    return {
      outcome: "rolled back",
      from: release(journal.from),
      to: release(journal.to),
      reason: problem,
      ...this.#writes.stateErrorOf(),
    };
  }

  /**
   * Ends an interrupted install whose switch never happened (found at start): the
   * service runs as before, the update is recorded as cancelled and stays scheduled,
   * and its new binary is removed (never one the service path or the state names).
   */
  async abandon(journal: InstallJournal, reason: string, removeTo: boolean): Promise<void> {
    const o = this.#o;
    o.log.warn("the last update did not switch to the new version; it ends as cancelled", {
      reason,
    });
    o.store.set({ ...o.store.state, install: undefined });
    if (removeTo) await this.#writes.removeUnused(journal.to.binary);
    const result: UpdateResult = {
      outcome: "cancelled",
      from: release(journal.from),
      to: release(journal.to),
      reason,
    };
    await this.#writes.record(result, { which: "svc", manual: journal.manual, ...result.to });
  }

  // ---- the steps ----

  /** Downloads, verifies and prepares the switch; the journal says "switched" when it returns. */
  async #download(
    journal: InstallJournal,
    svc: ServiceInfo,
    config: Config,
  ): Promise<{ journal: InstallJournal; prepared: PreparedSwitch; info: BuildInfo }> {
    const o = this.#o;
    const to = journal.to;
    let fetched;
    try {
      fetched = await o.fetcher.fetch(
        {
          mod: svc.modPath,
          version: to.version,
          dir: svc.pkgDir,
          goos: svc.goos,
          goarch: svc.goarch,
          goversion: to.goVersion,
          stripped: true,
        },
        to.binary,
        o.cmdAbs,
        config,
        { signal: o.signal },
      );
    } catch (err) {
      this.#throwIfEnding();
      o.metrics.downloadErrors.inc();
      throw new UpdateEnd("failed", `downloading: ${errorMessage(err)}`);
    }
    let info: BuildInfo;
    try {
      info = await readBuildInfo(fetched.path);
      if (
        info.main.path !== svc.modPath || info.main.version !== to.version ||
        info.goVersion !== to.goVersion
      ) {
        throw new Error(
          `it is ${info.main.path}@${info.main.version} built with ${info.goVersion}, not what was asked for`,
        );
      }
      await Deno.rename(fetched.path, to.binary);
    } catch (err) {
      await Deno.remove(fetched.path).catch(() => {});
      throw new UpdateEnd("failed", `new binary: ${errorMessage(err)}`);
    }
    await failpoint("downloaded", o.log, o.signal);
    let prepared: PreparedSwitch;
    try {
      prepared = await prepareSwitch(
        to.binary,
        o.cmdAbs,
        versionFileName(svc.modPath, svc.pkgDir, svc.version, svc.goVersion, svc.goos),
      );
    } catch (err) {
      await this.#writes.removeUnused(to.binary);
      throw new UpdateEnd("failed", `installing: ${errorMessage(err)}`);
    }
    const next = advance(journal, "switched", {
      from: { ...journal.from, binary: prepared.previous },
      to: { ...to, binary: prepared.installed, size: fetched.size, sha256: fetched.sha256 },
    });
    try {
      this.#throwIfEnding();
      await this.#writes.commitBefore({ ...o.store.state, install: next });
    } catch (err) {
      await this.#writes.undo(prepared, journal);
      throw err;
    }
    return { journal: next, prepared, info };
  }

  /**
   * Stops the old version, switches (one rename) and starts the new one; undefined
   * when ysco began stopping after the switch (recovery watches it at the next start).
   */
  async #switchAndStart(
    journal: InstallJournal,
    prepared: PreparedSwitch,
    info: BuildInfo,
    log: Logger,
  ): Promise<ServiceProcess | undefined> {
    const o = this.#o;
    await failpoint("switched", o.log, o.signal);
    if (o.signal.aborted) {
      await this.#writes.undo(prepared, journal);
      this.#throwIfEnding();
    }
    // From here the service is stopped; every path below starts a service again,
    // unless ysco is stopping.
    o.phase("restarting");
    const exit = await o.lifetime.stop();
    if (o.signal.aborted) {
      // Stopping began: the switch is never made; the service stays stopped and ysco ends.
      await this.#writes.undo(prepared, journal);
      this.#throwIfEnding();
    }
    try {
      prepared.commit();
    } catch (err) {
      log.error("installing new binary failed, restarting the old one", {
        err: errorMessage(err),
      });
      o.lifetime.start("service");
      await this.#writes.undo(prepared, journal);
      throw new UpdateEnd("failed", `installing: ${errorMessage(err)}`);
    }
    const proc = o.lifetime.start("new");
    o.running.info = serviceInfo(info);
    setVersionMetrics(o.metrics, o.running.info);
    if (proc === undefined) return undefined;
    // Between the old version's exit and the new one's start: a rename and a spawn.
    const gap = exit?.seenAt === undefined ? undefined : performance.now() - exit.seenAt;
    log.info("new version started, watching it", {
      pid: proc.pid,
      ...(gap === undefined ? {} : { exittospawn: `${gap.toFixed(2)}ms` }),
    });
    await prepared.sync().catch((err) =>
      log.error("cannot sync the service's directory", { err: errorMessage(err) })
    );
    await this.#writes.commitAfter({
      ...o.store.state,
      install: advance(journal, "started", { process: processMark(proc.pid) }),
    });
    await failpoint("started", o.log, o.signal);
    return proc;
  }

  /** Watches the new version, then confirms it or rolls it back; records the outcome. */
  async #watchAndEnd(
    proc: ServiceProcess | undefined,
    journal: InstallJournal,
    from: Release,
    to: Release,
    log: Logger,
    slot: FleetSlot | undefined,
  ): Promise<UpdateResult> {
    const o = this.#o;
    const verdict: Verdict = proc === undefined || o.signal.aborted
      ? { kind: "stopping" }
      : await watchNewVersion(proc, journal, o, this.#writes);
    if (verdict.kind === "stopping") {
      // The journal stays: the next start watches the new version again.
      await slot?.abandon("ysco is stopping");
      return {
        outcome: "cancelled",
        from,
        to,
        reason: "ysco is stopping; the new version is watched again at its next start",
      };
    }
    if (verdict.kind === "bad") {
      await rollBack(o.store.state.install ?? journal, verdict.problem, o, this.#writes);
      await slot?.rollback(verdict.problem);
      return {
        outcome: "rolled back",
        from,
        to,
        reason: verdict.problem,
        ...this.#writes.stateErrorOf(),
      };
    }
    await this.#confirm(journal, from, to, log);
    await slot?.release();
    return { outcome: "installed", from, to, ...this.#writes.stateErrorOf() };
  }

  /** Records a good new version: previous binary kept, older one removed, history. */
  async #confirm(journal: InstallJournal, from: Release, to: Release, log: Logger): Promise<void> {
    const o = this.#o;
    const s = o.store.state;
    const oldPrevious = s.previousBinarySvc;
    const next: State = withHistory(
      {
        ...s,
        install: undefined,
        previousBinarySvc: journal.from.binary,
        backoff: 0,
        backoffReason: "",
        scheduled: withoutSuperseded(s.scheduled, "svc", to),
      },
      historyEntry(
        { outcome: "installed", from, to },
        { which: "svc", manual: journal.manual },
        o.clock.now(),
      ),
    );
    await this.#writes.commitAfter(next);
    o.metrics.updates.inc({ which: "svc", outcome: "installed" });
    this.#writes.report(true);
    if (oldPrevious !== "" && oldPrevious !== journal.from.binary) {
      try {
        if (
          await removeOldBinary(oldPrevious, o.cmdAbs, [journal.from.binary, journal.to.binary])
        ) {
          log.info("removed older service binary", { path: oldPrevious });
        }
      } catch (err) {
        log.warn("cannot remove older service binary", {
          path: oldPrevious,
          err: errorMessage(err),
        });
      }
    }
  }

  // ---- helpers ----

  /** Ends the update as cancelled when ysco is ending. */
  #throwIfEnding(): void {
    const signal = this.#o.signal;
    if (signal.aborted) {
      throw new UpdateEnd("cancelled", errorMessage(signal.reason), { backoff: false });
    }
  }
}

/** The environment of the before and after commands. */
function hookEnv(svc: ServiceInfo, from: Release, to: Release): Record<string, string> {
  return {
    YSCO_WHICH: "svc",
    YSCO_MODULE: svc.modPath,
    YSCO_FROM_VERSION: from.version,
    YSCO_FROM_GOVERSION: from.goVersion,
    YSCO_TO_VERSION: to.version,
    YSCO_TO_GOVERSION: to.goVersion,
  };
}
