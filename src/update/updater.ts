/**
 * The update cycle of one supervised service: the one module that wires the parts
 * and that the admin interface talks to. The scheduler decides when (checks, the
 * update timer), the transaction what is installed and how, durably (and the
 * self-updates the same for ysco), the service lifetime what an exit of the service
 * means; the state store holds the state they share. See docs/design.md.
 *
 * Fixes of the original (docs/behaviour.md): a quick exit of the first process is an
 * exit, not a rollback; an install failure after the stop restarts the old binary;
 * the service is never left stopped and the busy flag never sticks; a service
 * ignoring SIGTERM is killed after `update.stop_timeout`; pause is checked when a
 * timer fires; a crash or a stop in the middle of an update is recovered at the next
 * start.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import type { BuildInfo } from "../buildinfo/mod.ts";
import type { Config } from "../config/config.ts";
import { withoutSuperseded } from "../decide/timing.ts";
import { errorMessage } from "../errors.ts";
import type { FleetGate } from "../fleet/gate.ts";
import type { Logger } from "../log.ts";
import type { ExecState } from "../self/exec_state.ts";
import { unblockStopSignals } from "../self/exec.ts";
import type { State, Which } from "../state/state.ts";
import { processMark } from "../supervise/process_mark.ts";
import type { YscoMetrics } from "../metrics/ysco_metrics.ts";
import { type Clock, SYSTEM_CLOCK } from "./clock.ts";
import { ServiceLifetime, type ServiceSupervisor } from "./lifetime.ts";
import type { RecoveryPlan } from "./recovery.ts";
import { Scheduler } from "./scheduler.ts";
import { SelfUpdates } from "./self_update.ts";
import { StateStore } from "./store.ts";
import { type Running, ServiceTransaction, setVersionMetrics } from "./transaction.ts";
import {
  type BusyInfo,
  type CheckReport,
  type Discovery,
  type Fetcher,
  releaseText,
  type SelfInfo,
  serviceInfo,
  type StatusView,
  UpdateBusyError,
  UpdateRefusedError,
  type UpdateRequest,
  type UpdateResult,
} from "./types.ts";

/** Everything the updater works with. */
export interface UpdaterOptions {
  /** The ys directory (state.json). */
  dir: string;
  /** The service binary as given on the command line, e.g. "./app". */
  cmd: string;
  supervisor: ServiceSupervisor;
  /** Build info of the service binary at start. */
  buildInfo: BuildInfo;
  config: Config;
  state: State;
  log: Logger;
  metrics: YscoMetrics;
  discovery: Discovery;
  fetcher: Fetcher;
  /** Fleet coordination, when `[fleet]` is configured. */
  gate?: FleetGate;
  /** ysco itself, for self-updates. */
  self: SelfInfo;
  /** Set when this process replaced an older ysco: the service to take over. */
  exec?: ExecState;
  /** An interrupted install found at start (src/update/recovery.ts). */
  recovery?: RecoveryPlan;
  /** The clock and timers. @default the system's */
  clock?: Clock;
  /** Random numbers in [0, 1), for jitter. @default Math.random */
  random?: () => number;
  /** Writes the state file. @default writeState of src/state/state.ts */
  writeState?: (dir: string, state: State) => Promise<void>;
}

/** Drives updates of one supervised service. */
export class Updater {
  #o: UpdaterOptions;
  #config: Config;
  #clock: Clock;
  #log: Logger;
  #store: StateStore;
  #running: Running;
  #lifetime: ServiceLifetime;
  #scheduler: Scheduler;
  #txn: ServiceTransaction;
  #self: SelfUpdates;
  /** Aborted when ysco ends (told to stop, or the service quit for good). */
  #ending = new AbortController();
  #busy: BusyInfo | undefined;
  #inFlight: Promise<unknown> = Promise.resolve();

  /** @param options what the updater works with */
  constructor(options: UpdaterOptions) {
    const o = options;
    this.#o = o;
    this.#config = o.config;
    this.#clock = o.clock ?? SYSTEM_CLOCK;
    this.#log = o.log;
    this.#store = new StateStore(o.state, {
      dir: o.dir,
      log: o.log,
      writeErrors: o.metrics.stateWriteErrors,
      ...(o.writeState ? { write: o.writeState } : {}),
    });
    this.#running = { info: serviceInfo(o.buildInfo) };
    const cmdAbs = isAbsolute(o.cmd) ? o.cmd : resolve(Deno.cwd(), o.cmd);
    const config = () => this.#config;
    const phase = (p: string) => {
      if (this.#busy) this.#busy = { ...this.#busy, phase: p };
    };
    this.#lifetime = new ServiceLifetime({
      supervisor: o.supervisor,
      log: o.log,
      clock: this.#clock,
      stopTimeout: () => this.#config.update.stop_timeout,
      onStart: (proc) => {
        if (proc.pid > 0) {
          void this.#store.save({ ...this.#store.state, service: processMark(proc.pid) });
        }
      },
    });
    const signal = AbortSignal.any([this.#lifetime.stopSignal, this.#ending.signal]);
    this.#txn = new ServiceTransaction({
      cmdAbs,
      store: this.#store,
      lifetime: this.#lifetime,
      running: this.#running,
      fetcher: o.fetcher,
      gate: o.gate,
      log: o.log,
      metrics: o.metrics,
      clock: this.#clock,
      config,
      phase,
      signal,
    });
    this.#self = new SelfUpdates({
      store: this.#store,
      lifetime: this.#lifetime,
      log: o.log,
      metrics: o.metrics,
      self: o.self,
      clock: this.#clock,
      config,
      phase,
      signal,
    });
    this.#scheduler = new Scheduler({
      store: this.#store,
      running: this.#running,
      discovery: o.discovery,
      metrics: o.metrics,
      log: o.log,
      clock: this.#clock,
      random: o.random ?? Math.random,
      config,
      gate: o.gate,
      checkSelf: (report, c) => this.#self.check(report, c),
      busy: () => this.#busy !== undefined,
      startUpdate: (request) => {
        this.update(request).catch((err) =>
          this.#log.error("scheduled update", { err: errorMessage(err) })
        );
      },
      onChange: (state) => this.#txn.checkFleetWait(state),
    });
  }

  /**
   * After an exec of a self-update, before ysco listens for signals: records that the
   * new version runs.
   */
  async arrived(): Promise<void> {
    if (this.#o.exec !== undefined) await this.#self.arrived();
  }

  /**
   * Starts (or takes over) the service, recovers an interrupted update, starts the
   * timers, and resolves with ysco's exit code when the service has quit for good.
   */
  async run(): Promise<number> {
    const m = this.#o.metrics;
    setVersionMetrics(m, this.#running.info);
    m.serviceModulePath.setOnly({ path: this.#running.info.modPath });
    m.selfVersion.setOnly({ version: this.#o.self.version });
    this.#dropSuperseded();
    m.updatesPaused.set(this.#store.state.pauseReason === "" ? 0 : 1);
    this.#report();
    const exec = this.#o.exec;
    if (exec !== undefined) {
      this.#lifetime.adopt(exec.pid, exec.started);
      unblockStopSignals();
      await this.#self.confirm(exec);
    } else {
      await this.#startOrRecover();
      await this.#self.checkUnconfirmed();
    }
    this.#scheduler.start();
    const code = await this.#lifetime.exit;
    this.#ending.abort(new Error("ysco is ending"));
    this.#scheduler.stop();
    await this.#inFlight;
    return code;
  }

  /** The current configuration. */
  get config(): Config {
    return this.#config;
  }

  /** Applies a new configuration without restarting the service. */
  setConfig(config: Config): void {
    this.#config = config;
    this.#log.setLevel(config.log_level);
    this.#log.info("configuration applied");
    this.#scheduler.configChanged();
  }

  /** A snapshot for the admin page, /json and metrics. */
  status(): StatusView {
    const proc = this.#lifetime.current;
    const next = this.#scheduler.nextUpdate;
    const nextCheck = this.#scheduler.nextCheckAt;
    return {
      svc: { ...this.#running.info },
      pid: proc?.pid,
      startedAt: proc ? new Date(proc.startedAt).toISOString() : undefined,
      busy: this.#busy ? { ...this.#busy } : undefined,
      state: structuredClone(this.#store.state),
      lastCheck: this.#scheduler.lastCheck,
      nextUpdate: next ? { update: next.update, at: new Date(next.at).toISOString() } : undefined,
      nextCheck: nextCheck === undefined ? undefined : new Date(nextCheck).toISOString(),
      config: this.#config,
      fleet: this.#o.gate?.status(),
      self: this.#o.self,
    };
  }

  /** Pauses automatic updates. @throws StateError when the state cannot be written */
  async pause(reason = "manually paused"): Promise<void> {
    try {
      await this.#scheduler.pause(reason);
    } finally {
      this.#report();
    }
  }

  /** Resumes automatic updates. @throws StateError when the state cannot be written */
  async unpause(): Promise<void> {
    try {
      await this.#scheduler.unpause();
    } finally {
      this.#report();
    }
  }

  /** Asks for a check soon (a webhook or the admin page); returns at once. */
  notify(): void {
    this.#scheduler.notify();
  }

  /** Checks for updates now; concurrent calls share one check. */
  check(): Promise<CheckReport> {
    return this.#scheduler.check();
  }

  /** Removes the scheduled updates of which. @throws StateError when the state cannot be written */
  cancelScheduled(which: Which): Promise<void> {
    return this.#scheduler.cancelScheduled(which);
  }

  /**
   * Installs a release now (manual) or as scheduled. Resolves when the update has
   * ended: installed (the new version is up, healthy and soaked), rolled back,
   * failed or cancelled.
   * @throws UpdateBusyError when another update is in progress
   * @throws UpdateRefusedError for the release that runs already (nothing recorded)
   */
  update(request: UpdateRequest): Promise<UpdateResult> {
    if (this.#busy) return Promise.reject(new UpdateBusyError());
    const running = request.which === "self"
      ? { version: this.#o.self.version, goVersion: "" }
      : { version: this.#running.info.version, goVersion: this.#running.info.goVersion };
    if (request.version === running.version && request.goVersion === running.goVersion) {
      return Promise.reject(
        new UpdateRefusedError(`${releaseText(running)} runs already`),
      );
    }
    if (this.#ending.signal.aborted || this.#lifetime.terminating) {
      return Promise.reject(new UpdateRefusedError("ysco is stopping"));
    }
    return this.#track(
      request,
      () => request.which === "self" ? this.#self.update(request) : this.#txn.update(request),
    );
  }

  /** Whether an update is in progress. */
  get busy(): boolean {
    return this.#busy !== undefined;
  }

  /** A signal was forwarded to the service (SIGTERM and SIGINT end ysco with it). */
  signalled(signal: Deno.Signal): void {
    this.#lifetime.signalled(signal);
  }

  // ---- helpers ----

  /** Runs an update, marked as the update in progress until it settles. */
  #track(request: UpdateRequest, start: () => Promise<UpdateResult>): Promise<UpdateResult> {
    const from = request.which === "self"
      ? { version: this.#o.self.version, goVersion: "" }
      : { version: this.#running.info.version, goVersion: this.#running.info.goVersion };
    this.#busy = {
      ...request,
      from,
      since: new Date(this.#clock.now()).toISOString(),
      phase: "starting",
    };
    this.#scheduler.reschedule();
    const done = start().finally(() => {
      this.#busy = undefined;
      this.#dropSuperseded();
      this.#scheduler.replan();
      this.#report();
    });
    this.#inFlight = done.catch(() => {});
    return done;
  }

  /** Starts the service, or first finishes an update a killed ysco left unfinished. */
  async #startOrRecover(): Promise<void> {
    const plan = this.#o.recovery;
    const journal = plan?.journal;
    if (plan === undefined || journal === undefined) {
      this.#lifetime.start("service");
      return;
    }
    const request: UpdateRequest = {
      which: "svc",
      version: journal.to.version,
      goVersion: journal.to.goVersion,
      manual: journal.manual,
    };
    const r = plan.recovery;
    if (r.action === "rewatch") {
      this.#track(request, () => this.#txn.rewatch(journal)).catch(() => {});
      return;
    }
    if (r.action === "rollback") {
      this.#track(
        request,
        () => this.#txn.rollbackAtStart(journal, r.reason, plan.failedKept ?? ""),
      )
        .catch(() => {});
      return;
    }
    await this.#txn.abandon(journal, r.reason, r.removeTo);
    this.#lifetime.start("service");
  }

  /** Scheduled updates that what runs makes pointless leave the schedule. */
  #dropSuperseded(): void {
    const s = this.#store.state;
    const info = this.#running.info;
    let scheduled = withoutSuperseded(s.scheduled, "svc", info);
    scheduled = withoutSuperseded(scheduled, "self", {
      version: this.#o.self.version,
      goVersion: "",
    });
    if (scheduled.length !== s.scheduled.length) {
      this.#log.info("dropped scheduled updates that are not newer than what runs");
      this.#store.set({ ...s, scheduled });
      void this.#store.save();
    }
  }

  #report(): void {
    const info = this.#running.info;
    this.#o.gate?.report({
      version: info.version,
      goVersion: info.goVersion,
      healthy: true,
      paused: this.#store.state.pauseReason !== "",
    });
  }
}
