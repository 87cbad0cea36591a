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
import { errorMessage } from "../errors.ts";
import type { FleetGate, FleetSlot } from "../fleet/gate.ts";
import type { Logger } from "../log.ts";
import type { InstallJournal, Outcome, Release, ScheduledUpdate, State } from "../state.ts";
import { withHistory } from "../state.ts";
import { processMark } from "../supervise/process_mark.ts";
import type { ServiceProcess } from "../supervise/supervisor.ts";
import { withoutSuperseded } from "../decide/timing.ts";
import type { YscoMetrics } from "../ysco_metrics.ts";
import type { Clock } from "./clock.ts";
import { failpoint } from "./failpoint.ts";
import { waitHealthy } from "./health.ts";
import { runHook } from "./hooks.ts";
import {
  currentBinary,
  type PreparedSwitch,
  prepareSwitch,
  removeOldBinary,
  versionFileName,
} from "./install.ts";
import { advance } from "./journal.ts";
import { QUICK_EXIT_MS, type Role, type ServiceLifetime } from "./lifetime.ts";
import type { StateStore } from "./store.ts";
import {
  type Fetcher,
  historyEntry,
  releaseText,
  type ServiceInfo,
  serviceInfo,
  type UpdateRequest,
  type UpdateResult,
} from "./types.ts";

/** The running service's build info, shared with the rest of the update cycle. */
export interface Running {
  info: ServiceInfo;
}

/** What a transaction works with. */
export interface TransactionOptions {
  /** The service path, absolute (usually a symlink). */
  cmdAbs: string;
  store: StateStore;
  lifetime: ServiceLifetime;
  running: Running;
  fetcher: Fetcher;
  gate?: FleetGate | undefined;
  log: Logger;
  metrics: YscoMetrics;
  clock: Clock;
  /** The current configuration. */
  config(): Config;
  /** Tells the status page what the update is doing. */
  phase(phase: string): void;
  /** Aborted when ysco ends (told to stop, or the service quit): the update ends at once. */
  signal: AbortSignal;
}

/** The end of an update that did not install. */
export class UpdateEnd extends Error {
  readonly outcome: Outcome;
  /** Whether a scheduled update backs off before it is tried again. */
  readonly backoff: boolean;
  /**
   * @param outcome "failed" or "cancelled"
   * @param message why
   */
  constructor(outcome: Outcome, message: string, options: { backoff?: boolean } = {}) {
    super(message);
    this.name = "UpdateEnd";
    this.outcome = outcome;
    this.backoff = options.backoff ?? true;
  }
}

/** How a watched version ended its watch. */
type Verdict = { kind: "good" } | { kind: "bad"; problem: string } | { kind: "stopping" };

/** Service updates. */
export class ServiceTransaction {
  #o: TransactionOptions;
  /** A wait for a fleet slot in progress; aborted when its update is no longer wanted. */
  #fleetWait: { abort: AbortController; request: UpdateRequest } | undefined;
  /** A write after an irreversible step that failed, reported with the outcome. */
  #stateError: string | undefined;

  /** @param options what it works with */
  constructor(options: TransactionOptions) {
    this.#o = options;
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
      if (o.gate) slot = await this.#acquireSlot(o.gate, request, to);
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
      await this.#commitBefore({ ...o.store.state, install: journal });
      o.phase("downloading");
      log.info("updating service", { from: releaseText(from) });
      const ready = await this.#download(journal, svc, config);
      journal = ready.journal;
      if (slot?.signal.aborted) {
        await this.#undo(ready.prepared, journal);
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
      await this.#record(result, request);
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
    await this.#commitAfter({
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
    await this.#recordRollback(journal, problem, failedKept, proc);
    return {
      outcome: "rolled back",
      from: release(journal.from),
      to: release(journal.to),
      reason: problem,
      ...this.#stateErrorOf(),
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
    if (removeTo) await this.#removeUnused(journal.to.binary);
    const result: UpdateResult = {
      outcome: "cancelled",
      from: release(journal.from),
      to: release(journal.to),
      reason,
    };
    await this.#record(result, { which: "svc", manual: journal.manual, ...result.to });
  }

  /**
   * Gives up a wait for a fleet slot when its update is no longer wanted: a scheduled
   * update that left the schedule (a newer version replaced it, or an operator
   * cancelled it), or when automatic updates were paused. Manual updates wait until
   * they get their slot or ysco stops.
   */
  checkFleetWait(state: State): void {
    const wait = this.#fleetWait;
    if (wait === undefined || wait.request.manual) return;
    const r = wait.request;
    const scheduled = state.scheduled.some((u) =>
      u.which === r.which && u.version === r.version && u.goVersion === r.goVersion
    );
    if (state.pauseReason !== "") {
      wait.abort.abort(new Error("automatic updates were paused"));
    } else if (!scheduled) {
      wait.abort.abort(
        new Error("no longer scheduled (replaced by a newer version, or cancelled)"),
      );
    }
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
      await this.#removeUnused(to.binary);
      throw new UpdateEnd("failed", `installing: ${errorMessage(err)}`);
    }
    const next = advance(journal, "switched", {
      from: { ...journal.from, binary: prepared.previous },
      to: { ...to, binary: prepared.installed, size: fetched.size, sha256: fetched.sha256 },
    });
    try {
      this.#throwIfEnding();
      await this.#commitBefore({ ...o.store.state, install: next });
    } catch (err) {
      await this.#undo(prepared, journal);
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
      await this.#undo(prepared, journal);
      this.#throwIfEnding();
    }
    // From here the service is stopped; every path below starts a service again,
    // unless ysco is stopping.
    o.phase("restarting");
    await o.lifetime.stop();
    if (o.signal.aborted) {
      // Stopping began: the switch is never made; the service stays stopped and ysco ends.
      await this.#undo(prepared, journal);
      this.#throwIfEnding();
    }
    try {
      prepared.commit();
    } catch (err) {
      log.error("installing new binary failed, restarting the old one", {
        err: errorMessage(err),
      });
      o.lifetime.start("service");
      await this.#undo(prepared, journal);
      throw new UpdateEnd("failed", `installing: ${errorMessage(err)}`);
    }
    const proc = o.lifetime.start("new");
    o.running.info = serviceInfo(info);
    setVersionMetrics(o.metrics, o.running.info);
    if (proc === undefined) return undefined;
    log.info("new version started, watching it", { pid: proc.pid });
    await prepared.sync().catch((err) =>
      log.error("cannot sync the service's directory", { err: errorMessage(err) })
    );
    await this.#commitAfter({
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
      : await this.#watch(proc, journal);
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
      await this.#rollback(o.store.state.install ?? journal, verdict.problem);
      await slot?.rollback(verdict.problem);
      return {
        outcome: "rolled back",
        from,
        to,
        reason: verdict.problem,
        ...this.#stateErrorOf(),
      };
    }
    await this.#confirm(journal, from, to, log);
    await slot?.release();
    return { outcome: "installed", from, to, ...this.#stateErrorOf() };
  }

  /**
   * Watches a newly started version until it counts as good: it must not exit
   * within max(5s, update.soak), must answer health_url with 2xx within
   * health_timeout, and must stay healthy through the soak.
   */
  async #watch(proc: ServiceProcess, journal: InstallJournal): Promise<Verdict> {
    const o = this.#o;
    const config = o.config();
    const abort = new AbortController();
    const failed = Promise.withResolvers<Verdict>();
    const window = Math.max(QUICK_EXIT_MS, config.update.soak);
    const until = proc.startedAt + window;
    const url = config.update.health_url;
    const onStop = () => failed.resolve({ kind: "stopping" });
    o.signal.addEventListener("abort", onStop, { once: true });
    using _watch = o.lifetime.watch(
      proc,
      (reason) => failed.resolve({ kind: "bad", problem: reason }),
    );
    try {
      const checks = (async (): Promise<Verdict> => {
        if (url !== "") {
          o.phase("checking health");
          const problem = await waitHealthy(url, {
            timeoutMs: config.update.health_timeout,
            signal: abort.signal,
          });
          if (abort.signal.aborted) return { kind: "stopping" };
          if (problem !== undefined) {
            return { kind: "bad", problem: `health check of ${url}: ${problem}` };
          }
          this.#report(true);
        }
        o.phase("soaking");
        await this.#commitAfter({
          ...o.store.state,
          install: advance(journal, "watching", { watchUntil: new Date(until).toISOString() }),
        });
        await failpoint("watching", o.log, abort.signal);
        while (o.clock.now() < until) {
          await this.#sleep(
            Math.min(until - o.clock.now(), url === "" ? window : 5000),
            abort.signal,
          );
          if (abort.signal.aborted) return { kind: "stopping" };
          if (url !== "" && o.clock.now() < until) {
            const problem = await waitHealthy(url, { timeoutMs: 5000, signal: abort.signal });
            if (abort.signal.aborted) return { kind: "stopping" };
            if (problem !== undefined) {
              return { kind: "bad", problem: `health check of ${url} during the soak: ${problem}` };
            }
          }
        }
        return { kind: "good" };
      })();
      return await Promise.race([checks, failed.promise]);
    } finally {
      abort.abort();
      o.signal.removeEventListener("abort", onStop);
    }
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
    await this.#commitAfter(next);
    o.metrics.updates.inc({ which: "svc", outcome: "installed" });
    this.#report(true);
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

  /**
   * Puts the previous binary back, restarts it and pauses automatic updates; the
   * failed version, which runs now, is stopped first.
   */
  async #rollback(journal: InstallJournal, problem: string): Promise<void> {
    const o = this.#o;
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
    await this.#commitAfter({ ...o.store.state, install: rolling });
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
    await this.#recordRollback(journal, problem, prepared?.previous, proc);
  }

  /** Records a rollback in one write: paused, the failed release unscheduled, history, no journal. */
  async #recordRollback(
    journal: InstallJournal,
    problem: string,
    failedKept: string | undefined,
    proc: ServiceProcess | undefined,
  ): Promise<void> {
    const o = this.#o;
    const failed = journal.to;
    const reason =
      `${o.running.info.modPath} ${failed.version} ${failed.goVersion} failed after an update: ${problem}`;
    const bad = (u: ScheduledUpdate) =>
      u.which === "svc" && u.version === failed.version && u.goVersion === failed.goVersion;
    const s = o.store.state;
    await this.#commitAfter(withHistory(
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
    if (failedKept !== undefined) await this.#removeUnused(failedKept);
    this.#report(true, problem);
    o.log.warn("rolled back after failed update", {
      version: o.running.info.version,
      goversion: o.running.info.goVersion,
    });
  }

  // ---- helpers ----

  /**
   * Waits for a fleet slot for the update to `to`.
   * @throws UpdateEnd "cancelled" (without backoff) when the wait was given up
   */
  async #acquireSlot(gate: FleetGate, request: UpdateRequest, to: Release): Promise<FleetSlot> {
    this.#o.phase("waiting for a fleet slot");
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, this.#o.signal]);
    this.#fleetWait = { abort, request };
    try {
      return await gate.acquire(to, { signal });
    } catch (err) {
      if (!signal.aborted) throw err;
      const why = errorMessage(signal.reason);
      throw new UpdateEnd("cancelled", `waiting for a fleet slot: ${why}`, { backoff: false });
    } finally {
      this.#fleetWait = undefined;
    }
  }

  /** Ends the update as cancelled when ysco is ending. */
  #throwIfEnding(): void {
    const signal = this.#o.signal;
    if (signal.aborted) {
      throw new UpdateEnd("cancelled", errorMessage(signal.reason), { backoff: false });
    }
  }

  /** Takes back what a prepared install made: nothing of it is left. */
  async #undo(prepared: PreparedSwitch, journal: InstallJournal): Promise<void> {
    await prepared.abort();
    await this.#removeUnused(journal.to.binary);
  }

  /** Removes a binary this update wrote, unless the service path or the state still names it. */
  async #removeUnused(path: string): Promise<void> {
    const o = this.#o;
    const s = o.store.state;
    const keep = [s.previousBinarySvc, s.install?.from.binary ?? ""].filter((p) => p !== "");
    try {
      if (await removeOldBinary(path, o.cmdAbs, keep)) {
        o.log.info("removed the binary of an update that did not install", { path });
      }
    } catch (err) {
      o.log.warn("cannot remove a binary of an update that did not install", {
        path,
        err: errorMessage(err),
      });
    }
  }

  /**
   * Writes the state before an irreversible step.
   * @throws UpdateEnd "failed" when it cannot be written: the step must not be taken
   */
  async #commitBefore(state: State): Promise<void> {
    try {
      await this.#o.store.commit(state);
    } catch (err) {
      this.#o.store.set({ ...this.#o.store.state, install: undefined });
      throw new UpdateEnd("failed", errorMessage(err));
    }
  }

  /** Writes the state after an irreversible step: a failure is logged and reported with the outcome. */
  async #commitAfter(state: State): Promise<void> {
    try {
      await this.#o.store.commit(state);
    } catch (err) {
      this.#stateError = errorMessage(err);
      this.#o.log.error("cannot write state", { err: this.#stateError });
    }
  }

  #stateErrorOf(): { stateError?: string } {
    const e = this.#stateError;
    this.#stateError = undefined;
    return e === undefined ? {} : { stateError: e };
  }

  /** Records the end of an update that did not install (history, metrics). */
  async #record(result: UpdateResult, request: UpdateRequest): Promise<void> {
    const o = this.#o;
    o.metrics.updates.inc({ which: "svc", outcome: result.outcome });
    await this.#commitAfter(
      withHistory(o.store.state, historyEntry(result, request, o.clock.now())),
    );
    Object.assign(result, this.#stateErrorOf());
  }

  #report(healthy: boolean, lastError = ""): void {
    const info = this.#o.running.info;
    this.#o.gate?.report({
      version: info.version,
      goVersion: info.goVersion,
      healthy,
      lastError,
      paused: this.#o.store.state.pauseReason !== "",
    });
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    const clock = this.#o.clock;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = clock.setTimeout(done, ms);
      function done() {
        clock.clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done);
    });
  }
}

/** The version gauges of the running service. */
export function setVersionMetrics(metrics: YscoMetrics, svc: ServiceInfo): void {
  metrics.serviceVersion.setOnly({ version: svc.version });
  metrics.serviceGoVersion.setOnly({ version: svc.goVersion });
}

function release(r: Release): Release {
  return { version: r.version, goVersion: r.goVersion };
}

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
