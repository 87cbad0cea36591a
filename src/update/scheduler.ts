/**
 * When things happen: periodic checks for new versions (discover, decide, add to the
 * schedule), the timer of the next scheduled update, pause and unpause. Timers follow
 * the wall clock (src/update/clock.ts), so a due update starts within a minute after
 * the clock jumped or the machine resumed. What an update does is the transaction's.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { planUpdate } from "../decide/plan.ts";
import { pickUpdate, policiesFor } from "../decide/policy.ts";
import { parseSchedule } from "../decide/schedule.ts";
import { nextUpdate, onTimer } from "../decide/timing.ts";
import { errorMessage } from "../errors.ts";
import type { FleetGate } from "../fleet/gate.ts";
import type { Logger } from "../log.ts";
import type { ScheduledUpdate, State, Which } from "../state/state.ts";
import { compareGoVersion } from "../version/goversion.ts";
import { compareSemver } from "../version/semver.ts";
import type { YscoMetrics } from "../metrics/ysco_metrics.ts";
import { type Clock, WallTimer } from "./clock.ts";
import type { StateStore } from "./store.ts";
import type { Running } from "./transaction.ts";
import type { CheckReport, Discovery, UpdateRequest } from "./types.ts";

/** What the scheduler works with. */
export interface SchedulerOptions {
  store: StateStore;
  running: Running;
  discovery: Discovery;
  metrics: YscoMetrics;
  log: Logger;
  clock: Clock;
  /** Random numbers in [0, 1), for jitter. */
  random: () => number;
  /** The current configuration. */
  config(): Config;
  gate?: FleetGate | undefined;
  /** Looks up ysco's own releases during a check and schedules what policy.self takes. */
  checkSelf(report: CheckReport, config: Config): Promise<void>;
  /** Whether an update is in progress. */
  busy(): boolean;
  /** Starts a due update (the updater's update()). */
  startUpdate(request: UpdateRequest): void;
  /** Told after the schedule or the pause changed. */
  onChange(state: State): void;
}

/** Checks and the update timer. */
export class Scheduler {
  #o: SchedulerOptions;
  #monitor: WallTimer;
  #updateTimer: WallTimer;
  #nextUpdate: ScheduledUpdate | undefined;
  #lastCheck: CheckReport | undefined;
  #checking: Promise<CheckReport> | undefined;
  #checkAgain = false;
  #stopped = false;

  /** @param options what it works with */
  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#monitor = new WallTimer(options.clock);
    this.#updateTimer = new WallTimer(options.clock);
  }

  /** Arms the first check (after `monitor.delay`) and the update timer. */
  start(): void {
    this.#armMonitor(this.#o.config().monitor.delay);
    this.reschedule();
  }

  /** Disarms every timer for good. */
  stop(): void {
    this.#stopped = true;
    this.#monitor.clear();
    this.#updateTimer.clear();
  }

  /** The last check's findings. */
  get lastCheck(): CheckReport | undefined {
    return this.#lastCheck;
  }

  /** When the next check runs (ms), if armed. */
  get nextCheckAt(): number | undefined {
    return this.#monitor.at;
  }

  /** The next scheduled update and when it starts (ms), if armed. */
  get nextUpdate(): { update: ScheduledUpdate; at: number } | undefined {
    const at = this.#updateTimer.at;
    return at === undefined || this.#nextUpdate === undefined
      ? undefined
      : { update: this.#nextUpdate, at };
  }

  /** Applies a new configuration: timers re-armed with its settings. */
  configChanged(): void {
    this.#armMonitor(this.#o.config().monitor.delay);
    this.reschedule();
  }

  /** Asks for a check soon (a webhook or the admin page). */
  notify(): void {
    this.#armMonitor(0);
  }

  /**
   * Checks for updates now: discovers toolchains and module versions, decides, and
   * schedules what the policies take. Concurrent calls share one check.
   */
  check(): Promise<CheckReport> {
    if (this.#checking) {
      this.#checkAgain = true;
      return this.#checking;
    }
    this.#checking = this.#check().finally(() => {
      this.#checking = undefined;
      this.#armMonitor(this.#o.config().monitor.interval);
      if (this.#checkAgain) {
        this.#checkAgain = false;
        this.#armMonitor(0);
      }
    });
    return this.#checking;
  }

  /**
   * Decides again on the last check's findings, after the running release changed
   * (an update or a rollback), so that the decision shown is about what runs now.
   */
  replan(): void {
    if (this.#lastCheck?.svc !== undefined) this.#schedule(this.#lastCheck);
    this.reschedule();
  }

  /** Pauses automatic updates. @throws StateError when the state cannot be written */
  async pause(reason = "manually paused"): Promise<void> {
    const o = this.#o;
    o.metrics.updatesPaused.set(1);
    o.log.info("paused updates", { reason });
    o.store.set({ ...o.store.state, pauseReason: reason });
    this.reschedule();
    // Applied now; a failed write is the caller's error (the API answers 500).
    await o.store.commit();
  }

  /** Resumes automatic updates. @throws StateError when the state cannot be written */
  async unpause(): Promise<void> {
    const o = this.#o;
    o.metrics.updatesPaused.set(0);
    o.log.info("unpaused updates");
    o.store.set({ ...o.store.state, pauseReason: "" });
    this.reschedule();
    // Applied now; a failed write is the caller's error (the API answers 500).
    await o.store.commit();
  }

  /** Removes the scheduled updates of which. @throws StateError when the state cannot be written */
  async cancelScheduled(which: Which): Promise<void> {
    const o = this.#o;
    const s = o.store.state;
    const scheduled = s.scheduled.filter((u) => u.which !== which);
    if (scheduled.length === s.scheduled.length) return;
    o.log.info("cancelled scheduled updates", { which });
    o.store.set({ ...s, scheduled });
    this.reschedule();
    // Applied now; a failed write is the caller's error (the API answers 500).
    await o.store.commit();
  }

  /** Re-arms the update timer for the first scheduled update (after any change). */
  reschedule(): void {
    const o = this.#o;
    const state = o.store.state;
    o.metrics.serviceUpdateScheduled.set(state.scheduled.filter((u) => u.which === "svc").length);
    o.metrics.selfUpdateScheduled.set(state.scheduled.filter((u) => u.which === "self").length);
    o.onChange(state);
    this.#updateTimer.clear();
    this.#nextUpdate = undefined;
    if (this.#stopped || o.busy()) return;
    const config = o.config();
    const next = nextUpdate(state, {
      now: o.clock.now(),
      schedule: scheduleOf(config),
      jitter: config.update.jitter,
      random: o.random,
    });
    if (next.kind === "paused") {
      o.log.debug("automatic updates paused, not scheduling", { reason: next.reason });
      return;
    }
    if (next.kind !== "scheduled") return;
    this.#nextUpdate = next.update;
    o.log.info("next update scheduled", {
      time: new Date(next.at).toISOString(),
      wait: `${Math.round(next.wait / 1000)}s`,
      version: next.update.version,
      goversion: next.update.goVersion,
      which: next.update.which,
    });
    this.#updateTimer.arm(next.at, () => this.#onUpdateTimer());
  }

  #onUpdateTimer(): void {
    const o = this.#o;
    this.#nextUpdate = undefined;
    const action = onTimer(o.store.state, {
      now: o.clock.now(),
      schedule: scheduleOf(o.config()),
      busy: o.busy(),
    });
    if (action.action === "reschedule") return this.reschedule();
    if (action.action === "none") {
      o.log.debug("update timer: nothing to do", { reason: action.reason });
      return;
    }
    const u = action.update;
    o.startUpdate({ which: u.which, version: u.version, goVersion: u.goVersion, manual: false });
  }

  #armMonitor(delayMs: number): void {
    if (this.#stopped) return;
    this.#monitor.arm(this.#o.clock.now() + Math.max(0, delayMs), () => {
      this.check().catch((err) =>
        this.#o.log.error("checking for updates", { err: errorMessage(err) })
      );
    });
  }

  async #check(): Promise<CheckReport> {
    const o = this.#o;
    const config = o.config();
    const m = o.metrics;
    const report: CheckReport = { time: new Date(o.clock.now()).toISOString() };
    const onError = (method: string, err: unknown) => {
      m.monitorErrors.inc();
      o.log.warn("lookup failed", { monitor: method, err: errorMessage(err) });
    };
    try {
      report.toolchains = await o.discovery.toolchains(config, onError);
      const cur = report.toolchains.toolchains.cur;
      m.serviceNewerGoVersionAvailable.set(
        cur !== "" && compareGoVersion(cur, o.running.info.goVersion) > 0 ? 1 : 0,
      );
    } catch (err) {
      report.toolchainsError = errorMessage(err);
      o.log.error("looking up toolchains", { err: report.toolchainsError });
    }

    const svc = o.running.info;
    if (svc.version === "" || svc.version === "(devel)") {
      report.svcError = `version of the service unknown (${
        svc.version || "empty"
      }): cannot compare versions`;
      o.log.warn("version of module unknown, cannot compare versions for updates");
    } else {
      try {
        report.svc = await o.discovery.module(svc.modPath, svc.version, config, onError);
        const versions = report.svc.versions;
        m.serviceNewerVersionAvailable.set(
          versions.some((v) => !v.prerelease && compareSemver(v.version, svc.version) > 0) ? 1 : 0,
        );
        m.serviceNewMajorAvailable.set(report.svc.newMajor ? 1 : 0);
        if (report.svc.newMajor) {
          o.log.info("new major version available; ysco never installs one by itself", {
            module: report.svc.newMajor.module,
            version: report.svc.newMajor.version.version,
          });
        }
        this.#schedule(report);
      } catch (err) {
        report.svcError = errorMessage(err);
        o.log.error("looking for updates for service", { err: report.svcError });
      }
    }
    if (config.self.feed_url !== "") await o.checkSelf(report, config);
    this.#lastCheck = report;
    const nowSeconds = o.clock.now() / 1000;
    m.lastCheck.set(nowSeconds);
    if (report.svcError === undefined && report.toolchainsError === undefined) {
      m.lastCheckSuccess.set(nowSeconds);
    }
    await o.store.save();
    this.reschedule();
    o.log.info("checked for updates", {
      versions: report.svc?.versions.map((v) => v.version).join(",") ?? "",
      toolchain: report.toolchains?.toolchains.cur ?? "",
      ...(report.svcDecision ? { decision: report.svcDecision } : {}),
      ...(report.svcError ? { err: report.svcError } : {}),
      ...(report.toolchainsError ? { toolchainerr: report.toolchainsError } : {}),
    });
    return report;
  }

  /** Applies the policies to a check's findings and adds what they take to the schedule. */
  #schedule(report: CheckReport): void {
    const o = this.#o;
    const svc = o.running.info;
    const config = o.config();
    const found = {
      versions: report.svc?.versions ?? [],
      toolchains: report.toolchains?.toolchains ?? { cur: "", prev: "", next: "" },
    };
    const plan = planUpdate({
      target: { which: "svc", modPath: svc.modPath, pkgDir: svc.pkgDir },
      running: { version: svc.version, goVersion: svc.goVersion },
      found,
      policy: policiesFor(config.policy, "svc"),
      update: config.update,
      state: o.store.state,
      now: o.clock.now(),
    });
    report.svcDecision = plan.decision.reason;
    // Against the running release, not the last scheduled one: is there anything to take?
    const available = pickUpdate(
      { version: svc.version, goVersion: svc.goVersion },
      found,
      policiesFor(config.policy, "svc"),
    );
    o.metrics.serviceUpdateAvailable.set(available.update ? 1 : 0);
    if (plan.added) {
      o.log.info("found new version", {
        modpath: svc.modPath,
        newversion: plan.added.version,
        newtoolchain: plan.added.goVersion,
        time: plan.added.time,
        reason: plan.decision.reason,
      });
      for (const c of plan.cancelled) {
        o.log.info("cancelling a pending update for a newer one", {
          version: c.version,
          goversion: c.goVersion,
        });
      }
      o.store.set({ ...o.store.state, scheduled: plan.scheduled });
    }
  }
}

function scheduleOf(config: Config) {
  return parseSchedule(config.update.schedule, { timeZone: config.update.timezone });
}
