/**
 * The update cycle: the one module that drives the pipeline. It runs checks
 * (discover, decide), keeps the scheduled updates in the state, installs them when
 * due (fetch + verify, install, restart), watches the new version (quick exit,
 * health check, soak) and rolls back when it fails. It owns every state change and
 * the service's lifetime: it decides what an exit of the service means.
 *
 * Fixes of the original (reference 4.3-4.5, 7.5, 12): a quick exit of the first
 * process is an exit, not a rollback; an install failure after the stop restarts the
 * old binary; the service is never left stopped and the busy flag never sticks; a
 * service ignoring SIGTERM is killed after `update.stop_timeout`; pause is checked
 * when a timer fires.
 *
 * @module
 */

import { dirname, isAbsolute, join, resolve } from "node:path";
import { type BuildInfo, readBuildInfo } from "../buildinfo/mod.ts";
import type { Config } from "../config/config.ts";
import { pickUpdate, policiesFor } from "../decide/policy.ts";
import { planUpdate } from "../decide/plan.ts";
import { parseSchedule } from "../decide/schedule.ts";
import { nextUpdate, onTimer, sortScheduled } from "../decide/timing.ts";
import type { ModuleDiscovery, ToolchainDiscovery } from "../discover/mod.ts";
import { errorMessage } from "../errors.ts";
import type { FleetGate, FleetSlot } from "../fleet/gate.ts";
import type { Logger } from "../log.ts";
import {
  type HistoryEntry,
  type Outcome,
  type Release,
  type ScheduledUpdate,
  type State,
  type Which,
  withHistory,
  writeState,
} from "../state.ts";
import type { ExitStatus, ServiceProcess, Supervisor } from "../supervise/supervisor.ts";
import { compareGoVersion } from "../version/goversion.ts";
import { compareSemver } from "../version/semver.ts";
import type { YscoMetrics } from "../ysco_metrics.ts";
import type { ExecState } from "../self/exec_state.ts";
import type { BuildSpec } from "../verify/buildspec.ts";
import { waitHealthy } from "./health.ts";
import { SelfUpdates } from "./self_update.ts";
import { runHook } from "./hooks.ts";
import { currentBinary, installBinary, removeOldBinary, versionFileName } from "./install.ts";

/** A new version that exits within this time after its start failed (reference 4.3). */
export const QUICK_EXIT_MS = 5000;
/** Longest single timer; longer waits are re-armed (setTimeout's limit is ~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The service as the updater knows it. */
export interface ServiceInfo {
  modPath: string;
  /** Package directory in the module: "/" or "/cmd/x". */
  pkgDir: string;
  /** Import path of the main package. */
  path: string;
  version: string;
  goVersion: string;
  /** Platform of the service's binary (from its build info): what gobuild must build. */
  goos: string;
  goarch: string;
}

/** Finds versions and toolchains (src/discover in production). */
export interface Discovery {
  module(
    modPath: string,
    current: string,
    config: Config,
    onMethodError: (method: string, err: unknown) => void,
  ): Promise<ModuleDiscovery>;
  toolchains(
    config: Config,
    onMethodError: (method: string, err: unknown) => void,
  ): Promise<ToolchainDiscovery>;
}

/** Gets verified binaries (the gobuild transparency log in production). */
export interface Fetcher {
  /**
   * Looks up spec in the log, downloads and verifies the binary into a temporary
   * file in dest's directory with modeFrom's permissions, and returns its path.
   */
  fetch(spec: BuildSpec, dest: string, modeFrom: string, config: Config): Promise<string>;
}

/** Everything the updater works with. */
export interface UpdaterOptions {
  /** The ys directory (state.json). */
  dir: string;
  /** The service binary as given on the command line, e.g. "./app". */
  cmd: string;
  supervisor: Supervisor;
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
  /** The clock. @default Date.now */
  now?: () => number;
  /** Random numbers in [0, 1), for jitter. @default Math.random */
  random?: () => number;
}

/** ysco itself, as self-updates need it. */
export interface SelfInfo {
  /** ysco's version. */
  version: string;
  /** The path ysco was started as (argv[0]; the `ysco` symlink in a deployment). */
  path: string;
  /** ysco's whole command line, used again when it replaces itself. */
  argv: string[];
  /** Its platform as release feeds name it: "linux-amd64". */
  platform: string;
}

/** Where the answer to an update request goes when ysco replaces itself meanwhile. */
export interface Handoff {
  /** The client's address, to find the connection's descriptor. */
  remote: { hostname: string; port: number };
  /** The server's port (local side of the connection). */
  localPort: number;
  /** A form (redirect to the page) or the API (plain text). */
  redirect: boolean;
}

/** Thrown when an update is requested while another is in progress. */
export class UpdateBusyError extends Error {
  constructor() {
    super("update in progress");
    this.name = "UpdateBusyError";
  }
}

/** An update request. */
export interface UpdateRequest extends Release {
  which: Which;
  /** Requested by an operator (admin page, API) rather than the schedule. */
  manual: boolean;
  /** For a self-update asked over HTTP: the connection the new process answers on. */
  handoff?: Handoff;
}

/** How an update ended. */
export interface UpdateResult {
  outcome: Outcome;
  from: Release;
  to: Release;
  reason?: string;
}

/** The last check's findings, for the status page (no lookups on page loads). */
export interface CheckReport {
  time: string;
  toolchains?: ToolchainDiscovery;
  toolchainsError?: string;
  svc?: ModuleDiscovery;
  svcError?: string;
  /** ysco's releases for this platform from its feed, newest first. */
  selfVersions?: string[];
  selfError?: string;
  /** The policy's decision for the service against the running release. */
  svcDecision?: string;
}

/** The update in progress. */
export interface BusyInfo extends UpdateRequest {
  from: Release;
  since: string;
  /** "waiting for a fleet slot", "downloading", "restarting", "checking health", "soaking", "rolling back". */
  phase: string;
}

/** A snapshot for the admin page, /json and metrics. */
export interface StatusView {
  svc: ServiceInfo;
  pid: number | undefined;
  startedAt: string | undefined;
  busy: BusyInfo | undefined;
  state: State;
  lastCheck: CheckReport | undefined;
  nextUpdate: { update: ScheduledUpdate; at: string } | undefined;
  nextCheck: string | undefined;
  config: Config;
  fleet: ReturnType<FleetGate["status"]> | undefined;
  self: SelfInfo;
}

/** Drives updates of one supervised service. */
export class Updater {
  #o: UpdaterOptions;
  #config: Config;
  #state: State;
  #svc: ServiceInfo;
  #cmdAbs: string;
  #now: () => number;
  #random: () => number;
  #log: Logger;

  #proc: ServiceProcess | undefined;
  /** Processes we stopped on purpose: their exit is not the service quitting. */
  #stopping = new WeakSet<ServiceProcess>();
  /** A new version being watched: its exit fails the update instead of ending ysco. */
  #watch: { proc: ServiceProcess; fail: (reason: string) => void } | undefined;
  /** The previous version restarted by a rollback: a quick exit of it ends ysco. */
  #rolledBack: ServiceProcess | undefined;
  #busy: BusyInfo | undefined;
  /** A wait for a fleet slot in progress; aborted when its update is no longer wanted. */
  #fleetWait: { abort: AbortController; request: UpdateRequest } | undefined;
  #lastCheck: CheckReport | undefined;
  #checking: Promise<CheckReport> | undefined;
  #checkAgain = false;

  #monitorTimer: ReturnType<typeof setTimeout> | undefined;
  #nextCheckAt: number | undefined;
  #updateTimer: ReturnType<typeof setTimeout> | undefined;
  #nextUpdateAt: { update: ScheduledUpdate; at: number } | undefined;
  #saving: Promise<void> = Promise.resolve();
  #exit: { promise: Promise<number>; resolve: (code: number) => void };
  #stopped = false;
  /** SIGTERM or SIGINT was forwarded to the service: its exit ends ysco, whatever else goes on. */
  #terminating: Deno.Signal | undefined;
  #selfUpdates: SelfUpdates;

  /** @param options what the updater works with */
  constructor(options: UpdaterOptions) {
    this.#o = options;
    this.#config = options.config;
    this.#state = options.state;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#svc = serviceInfo(options.buildInfo);
    this.#cmdAbs = isAbsolute(options.cmd) ? options.cmd : resolve(Deno.cwd(), options.cmd);
    this.#exit = Promise.withResolvers<number>();
    // deno-lint-ignore no-this-alias -- the host's accessors reach this updater's private fields
    const updater = this;
    this.#selfUpdates = new SelfUpdates({
      get state() {
        return updater.#state;
      },
      set state(state: State) {
        updater.#state = state;
      },
      save: () => this.#save(),
      get config() {
        return updater.#config;
      },
      log: this.#log,
      metrics: options.metrics,
      self: options.self,
      now: () => this.#now(),
      phase: (phase) => this.#phase(phase),
      proc: () => this.#proc,
    });
  }

  /**
   * Starts the service and the timers, and resolves with ysco's exit code when the
   * service has quit for good.
   */
  async run(): Promise<number> {
    this.#setVersionMetrics();
    this.#o.metrics.serviceModulePath.setOnly({ path: this.#svc.modPath });
    this.#o.metrics.updatesPaused.set(this.#state.pauseReason === "" ? 0 : 1);
    this.#report(true);
    const exec = this.#o.exec;
    if (exec !== undefined) {
      this.#watchExit(this.#o.supervisor.adopt(exec.pid, exec.started));
      await this.#selfUpdates.confirm(exec);
    } else {
      try {
        this.#startService();
      } catch (err) {
        if (!(err instanceof UpdateEnd)) throw err; // terminating already
      }
      await this.#selfUpdates.checkUnconfirmed();
    }
    this.#o.metrics.selfVersion.setOnly({ version: this.#o.self.version });
    this.#armMonitor(this.#config.monitor.delay);
    this.#reschedule();
    const code = await this.#exit.promise;
    this.#shutdown();
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
    this.#armMonitor(config.monitor.delay);
    this.#reschedule();
  }

  /** A snapshot for the admin page, /json and metrics. */
  status(): StatusView {
    return {
      svc: { ...this.#svc },
      pid: this.#proc?.pid,
      startedAt: this.#proc ? new Date(this.#proc.startedAt).toISOString() : undefined,
      busy: this.#busy ? { ...this.#busy } : undefined,
      state: structuredClone(this.#state),
      lastCheck: this.#lastCheck,
      nextUpdate: this.#nextUpdateAt
        ? { update: this.#nextUpdateAt.update, at: new Date(this.#nextUpdateAt.at).toISOString() }
        : undefined,
      nextCheck: this.#nextCheckAt === undefined
        ? undefined
        : new Date(this.#nextCheckAt).toISOString(),
      config: this.#config,
      fleet: this.#o.gate?.status(),
      self: this.#o.self,
    };
  }

  /** Pauses automatic updates. */
  async pause(reason = "manually paused"): Promise<void> {
    this.#state = { ...this.#state, pauseReason: reason };
    this.#o.metrics.updatesPaused.set(1);
    this.#log.info("paused updates", { reason });
    this.#reportPaused();
    await this.#save();
    this.#reschedule();
  }

  /** Resumes automatic updates. */
  async unpause(): Promise<void> {
    this.#state = { ...this.#state, pauseReason: "" };
    this.#o.metrics.updatesPaused.set(0);
    this.#log.info("unpaused updates");
    this.#reportPaused();
    await this.#save();
    this.#reschedule();
  }

  /** Asks for a check soon (a webhook or the admin page); returns at once. */
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
      this.#armMonitor(this.#config.monitor.interval);
      if (this.#checkAgain) {
        this.#checkAgain = false;
        this.#armMonitor(0);
      }
    });
    return this.#checking;
  }

  /** Removes the scheduled updates of which. */
  async cancelScheduled(which: Which): Promise<void> {
    const before = this.#state.scheduled.length;
    this.#state = {
      ...this.#state,
      scheduled: this.#state.scheduled.filter((u) => u.which !== which),
    };
    if (this.#state.scheduled.length !== before) {
      this.#log.info("cancelled scheduled updates", { which });
      await this.#save();
      this.#reschedule();
    }
  }

  /**
   * Installs a release now (manual) or as scheduled. Resolves when the update has
   * ended: installed (the new version is up, healthy and soaked), rolled back,
   * failed or cancelled.
   * @throws UpdateBusyError when another update is in progress
   */
  update(request: UpdateRequest): Promise<UpdateResult> {
    if (this.#busy) return Promise.reject(new UpdateBusyError());
    const from = request.which === "self"
      ? { version: this.#o.self.version, goVersion: "" }
      : { version: this.#svc.version, goVersion: this.#svc.goVersion };
    this.#busy = {
      ...request,
      from,
      since: new Date(this.#now()).toISOString(),
      phase: "starting",
    };
    this.#clearUpdateTimer();
    const run = request.which === "self"
      ? this.#selfUpdates.update(request, from)
      : this.#updateService(request, from);
    return run.finally(() => {
      this.#busy = undefined;
      this.#reschedule();
    });
  }

  /** Whether an update is in progress. */
  get busy(): boolean {
    return this.#busy !== undefined;
  }

  // ---- service lifetime ----

  /**
   * Starts the service, unless ysco was told to terminate: then ysco ends instead
   * (a service that was just stopped for an update is not started again).
   * @throws UpdateEnd when terminating
   */
  #startService(): ServiceProcess {
    if (this.#terminating !== undefined) {
      this.#log.info("not starting the service: ysco is terminating", {
        signal: this.#terminating,
      });
      this.#exit.resolve(128 + (SIGNAL_NUMBERS[this.#terminating] ?? 15));
      throw new UpdateEnd("cancelled", `ysco received ${this.#terminating}`);
    }
    return this.#watchExit(this.#o.supervisor.start());
  }

  /**
   * A signal was forwarded to the service. After SIGTERM or SIGINT the service's exit
   * ends ysco, also during an update (no rollback for a stop that was asked for);
   * with no service running at that moment, ysco ends at once.
   */
  signalled(signal: Deno.Signal): void {
    if (signal !== "SIGTERM" && signal !== "SIGINT") return;
    this.#terminating = signal;
    const proc = this.#proc;
    if (proc === undefined) {
      this.#log.info("terminating while no service runs", { signal });
      this.#exit.resolve(128 + (SIGNAL_NUMBERS[signal] ?? 15));
      return;
    }
    // The stop procedure: a service that ignores the signal is killed after
    // update.stop_timeout, with its process group, so that ysco can end.
    const timeout = this.#config.update.stop_timeout;
    const timer = setTimeout(() => {
      if (this.#proc !== proc) return;
      this.#log.warn("service did not exit after the signal, killing its process group", {
        signal,
        pid: proc.pid,
        timeout: `${timeout / 1000}s`,
      });
      this.#o.supervisor.killGroup(proc.pid);
    }, timeout);
    proc.status.finally(() => clearTimeout(timer));
  }

  /** Makes proc the service and handles its exit when it comes. */
  #watchExit(proc: ServiceProcess): ServiceProcess {
    this.#proc = proc;
    proc.status.then((status) => this.#onExit(proc, status));
    return proc;
  }

  #onExit(proc: ServiceProcess, status: ExitStatus): void {
    if (this.#proc === proc) this.#proc = undefined;
    if (this.#stopping.has(proc) && this.#terminating === undefined) return;
    const described = describeExit(status);
    if (this.#terminating !== undefined) {
      this.#log.info("service ended after a signal to ysco, quitting", {
        signal: this.#terminating,
        exitcode: status.code,
      });
      this.#exit.resolve(status.code);
      return;
    }
    if (this.#watch?.proc === proc) {
      this.#watch.fail(`exited ${described}`);
      return;
    }
    if (status.code === 0 && status.startError === undefined) {
      this.#log.info("service finished without error, quitting");
      this.#exit.resolve(0);
      return;
    }
    if (this.#rolledBack === proc && this.#now() - proc.startedAt < QUICK_EXIT_MS) {
      this.#log.error("service quit within 5s after a rollback, giving up", {
        exitcode: status.code,
        err: described,
      });
      this.#exit.resolve(status.code);
      return;
    }
    this.#log.error("service quit, so will we", {
      exitcode: status.code,
      ...(status.signal ? { signal: status.signal } : {}),
      ...(status.startError ? { err: status.startError } : {}),
    });
    this.#exit.resolve(status.code);
  }

  #shutdown(): void {
    this.#stopped = true;
    clearTimeout(this.#monitorTimer);
    this.#clearUpdateTimer();
  }

  // ---- checks ----

  #armMonitor(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#monitorTimer);
    const wait = Math.min(Math.max(0, delayMs), MAX_TIMER_MS);
    this.#nextCheckAt = this.#now() + wait;
    this.#monitorTimer = setTimeout(() => {
      this.#nextCheckAt = undefined;
      this.check().catch((err) => this.#log.error("checking for updates", { err }));
    }, wait);
  }

  async #check(): Promise<CheckReport> {
    const config = this.#config;
    const m = this.#o.metrics;
    const report: CheckReport = { time: new Date(this.#now()).toISOString() };
    const onError = (method: string, err: unknown) => {
      m.monitorErrors.inc();
      this.#log.warn("lookup failed", { monitor: method, err: errorMessage(err) });
    };
    try {
      report.toolchains = await this.#o.discovery.toolchains(config, onError);
      const cur = report.toolchains.toolchains.cur;
      m.serviceNewerGoVersionAvailable.set(
        cur !== "" && compareGoVersion(cur, this.#svc.goVersion) > 0 ? 1 : 0,
      );
    } catch (err) {
      report.toolchainsError = errorMessage(err);
      this.#log.error("looking up toolchains", { err: report.toolchainsError });
    }

    const svc = this.#svc;
    if (svc.version === "" || svc.version === "(devel)") {
      report.svcError = `version of the service unknown (${
        svc.version || "empty"
      }): cannot compare versions`;
      this.#log.warn("version of module unknown, cannot compare versions for updates");
    } else {
      try {
        report.svc = await this.#o.discovery.module(svc.modPath, svc.version, config, onError);
        const versions = report.svc.versions;
        m.serviceNewerVersionAvailable.set(
          versions.some((v) => !v.prerelease && compareSemver(v.version, svc.version) > 0) ? 1 : 0,
        );
        m.serviceNewMajorAvailable.set(report.svc.newMajor ? 1 : 0);
        if (report.svc.newMajor) {
          this.#log.info("new major version available; ysco never installs one by itself", {
            module: report.svc.newMajor.module,
            version: report.svc.newMajor.version.version,
          });
        }
        this.#schedule(report);
      } catch (err) {
        report.svcError = errorMessage(err);
        this.#log.error("looking for updates for service", { err: report.svcError });
      }
    }
    if (config.self.feed_url !== "") await this.#selfUpdates.check(report, config);
    this.#lastCheck = report;
    const nowSeconds = this.#now() / 1000;
    m.lastCheck.set(nowSeconds);
    if (report.svcError === undefined && report.toolchainsError === undefined) {
      m.lastCheckSuccess.set(nowSeconds);
    }
    await this.#save();
    this.#reschedule();
    this.#log.info("checked for updates", {
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
    const svc = this.#svc;
    const found = {
      versions: report.svc?.versions ?? [],
      toolchains: report.toolchains?.toolchains ?? { cur: "", prev: "", next: "" },
    };
    const plan = planUpdate({
      target: { which: "svc", modPath: svc.modPath, pkgDir: svc.pkgDir },
      running: { version: svc.version, goVersion: svc.goVersion },
      found,
      policy: policiesFor(this.#config.policy, "svc"),
      update: this.#config.update,
      state: this.#state,
      now: this.#now(),
    });
    report.svcDecision = plan.decision.reason;
    // Against the running release, not the last scheduled one: is there anything to take?
    const available = pickUpdate(
      { version: svc.version, goVersion: svc.goVersion },
      found,
      policiesFor(this.#config.policy, "svc"),
    );
    this.#o.metrics.serviceUpdateAvailable.set(available.update ? 1 : 0);
    if (plan.added) {
      this.#log.info("found new version", {
        modpath: svc.modPath,
        newversion: plan.added.version,
        newtoolchain: plan.added.goVersion,
        time: plan.added.time,
        reason: plan.decision.reason,
      });
      for (const c of plan.cancelled) {
        this.#log.info("cancelling a pending update for a newer one", {
          version: c.version,
          goversion: c.goVersion,
        });
      }
      this.#state = { ...this.#state, scheduled: plan.scheduled };
    }
  }

  // ---- the update timer ----

  #clearUpdateTimer(): void {
    clearTimeout(this.#updateTimer);
    this.#updateTimer = undefined;
    this.#nextUpdateAt = undefined;
  }

  #reschedule(): void {
    const m = this.#o.metrics;
    m.serviceUpdateScheduled.set(this.#state.scheduled.filter((u) => u.which === "svc").length);
    m.selfUpdateScheduled.set(this.#state.scheduled.filter((u) => u.which === "self").length);
    this.#checkFleetWait();
    this.#clearUpdateTimer();
    if (this.#stopped || this.#busy) return;
    const schedule = this.#scheduleOf(this.#config);
    const next = nextUpdate(this.#state, {
      now: this.#now(),
      schedule,
      jitter: this.#config.update.jitter,
      random: this.#random,
    });
    if (next.kind === "paused") {
      this.#log.debug("automatic updates paused, not scheduling", { reason: next.reason });
      return;
    }
    if (next.kind !== "scheduled") return;
    this.#nextUpdateAt = { update: next.update, at: next.at };
    this.#log.info("next update scheduled", {
      time: new Date(next.at).toISOString(),
      wait: `${Math.round(next.wait / 1000)}s`,
      version: next.update.version,
      goversion: next.update.goVersion,
      which: next.update.which,
    });
    this.#updateTimer = setTimeout(() => this.#onUpdateTimer(), Math.min(next.wait, MAX_TIMER_MS));
  }

  #onUpdateTimer(): void {
    this.#updateTimer = undefined;
    const action = onTimer(this.#state, {
      now: this.#now(),
      schedule: this.#scheduleOf(this.#config),
      busy: this.#busy !== undefined,
    });
    if (action.action === "reschedule") {
      this.#reschedule();
      return;
    }
    if (action.action === "none") {
      this.#log.debug("update timer: nothing to do", { reason: action.reason });
      return;
    }
    const u = action.update;
    this.update({ which: u.which, version: u.version, goVersion: u.goVersion, manual: false })
      .catch((err) => this.#log.error("scheduled update", { err: errorMessage(err) }));
  }

  #scheduleOf(config: Config) {
    return parseSchedule(config.update.schedule, { timeZone: config.update.timezone });
  }

  // ---- one update of the service ----

  async #updateService(request: UpdateRequest, from: Release): Promise<UpdateResult> {
    const t0 = this.#now();
    const to = { version: request.version, goVersion: request.goVersion };
    const svc = this.#svc;
    const config = this.#config;
    const log = this.#log.with({ which: "svc", version: to.version, goversion: to.goVersion });
    const env = {
      YSCO_WHICH: "svc",
      YSCO_MODULE: svc.modPath,
      YSCO_FROM_VERSION: from.version,
      YSCO_FROM_GOVERSION: from.goVersion,
      YSCO_TO_VERSION: to.version,
      YSCO_TO_GOVERSION: to.goVersion,
    };
    if (request.manual && this.#state.backoff > 0) {
      this.#state = { ...this.#state, backoff: 0, backoffReason: "" };
    }
    let slot: FleetSlot | undefined;
    let result: UpdateResult;
    try {
      // The fleet slot first, so that the before command runs right before the
      // install, not hours before it while the host waits for its turn.
      if (this.#o.gate) slot = await this.#acquireSlot(this.#o.gate, request, to);
      if (config.update.before !== "") {
        this.#phase("running the before command");
        const problem = await runHook(config.update.before, env);
        if (problem !== undefined) throw new UpdateEnd("cancelled", `before command ${problem}`);
      }
      this.#phase("downloading");
      log.info("updating service", { from: `${from.version}/${from.goVersion}` });
      const final = join(
        dirname(this.#cmdAbs),
        versionFileName(svc.modPath, svc.pkgDir, to.version, to.goVersion, svc.goos),
      );
      if (final === await currentBinary(this.#cmdAbs)) {
        throw new UpdateEnd("failed", `${final} is the running binary already`);
      }
      let temp: string;
      try {
        temp = await this.#o.fetcher.fetch(
          {
            mod: svc.modPath,
            version: to.version,
            dir: svc.pkgDir,
            goos: svc.goos,
            goarch: svc.goarch,
            goversion: to.goVersion,
            stripped: true,
          },
          final,
          this.#cmdAbs,
          config,
        );
      } catch (err) {
        this.#o.metrics.downloadErrors.inc();
        throw new UpdateEnd("failed", `downloading: ${errorMessage(err)}`);
      }
      let newInfo: BuildInfo;
      try {
        newInfo = await readBuildInfo(temp);
        if (
          newInfo.main.path !== svc.modPath || newInfo.main.version !== to.version ||
          newInfo.goVersion !== to.goVersion
        ) {
          throw new Error(
            `it is ${newInfo.main.path}@${newInfo.main.version} built with ${newInfo.goVersion}, not what was asked for`,
          );
        }
        await Deno.rename(temp, final);
      } catch (err) {
        await Deno.remove(temp).catch(() => {});
        throw new UpdateEnd("failed", `new binary: ${errorMessage(err)}`);
      }
      if (slot?.signal.aborted) {
        throw new UpdateEnd("failed", "lost the fleet slot while downloading");
      }

      // From here the service is stopped; every path below starts a service again.
      this.#phase("restarting");
      await this.#stopService(config);
      let previous: string;
      try {
        previous = (await installBinary(
          final,
          this.#cmdAbs,
          versionFileName(svc.modPath, svc.pkgDir, from.version, from.goVersion, svc.goos),
        )).previous;
      } catch (err) {
        log.error("installing new binary failed, restarting the old one", {
          err: errorMessage(err),
        });
        this.#startService();
        throw new UpdateEnd("failed", `installing: ${errorMessage(err)}`);
      }
      this.#svc = serviceInfo(newInfo);
      this.#setVersionMetrics();
      const proc = this.#startService();
      log.info("new version started, watching it", { pid: proc.pid });

      const problem = await this.#watchNew(proc, config);
      if (problem !== undefined) {
        await this.#rollback(previous, svc, problem, config);
        await slot?.rollback(problem);
        slot = undefined;
        result = { outcome: "rolled back", from, to, reason: problem };
      } else {
        const oldPrevious = this.#state.previousBinarySvc;
        this.#state = {
          ...this.#state,
          previousBinarySvc: previous,
          backoff: 0,
          backoffReason: "",
          scheduled: this.#state.scheduled.filter((u) =>
            !(u.which === "svc" && compareSemver(u.version, to.version) <= 0 &&
              compareGoVersion(u.goVersion, to.goVersion) <= 0)
          ),
        };
        if (oldPrevious !== "" && oldPrevious !== previous) {
          try {
            if (await removeOldBinary(oldPrevious, this.#cmdAbs, [previous, final])) {
              log.info("removed older service binary", { path: oldPrevious });
            }
          } catch (err) {
            log.warn("cannot remove older service binary", {
              path: oldPrevious,
              err: errorMessage(err),
            });
          }
        }
        this.#report(true);
        await slot?.release();
        slot = undefined;
        result = { outcome: "installed", from, to };
      }
    } catch (err) {
      const end = err instanceof UpdateEnd ? err : new UpdateEnd("failed", errorMessage(err));
      result = { outcome: end.outcome, from, to, reason: end.message };
      log.error(end.outcome === "cancelled" ? "update cancelled" : "update failed", {
        err: end.message,
      });
      await slot?.abandon(end.message);
      if (end.outcome === "failed") {
        this.#o.gate?.report({ ...this.#runningRelease(), healthy: true, lastError: end.message });
        if (!request.manual) this.#o.metrics.updateErrors.inc();
      }
      // A scheduled update that failed or was cancelled by the before command stays
      // scheduled, and is tried again after a growing backoff.
      if (!request.manual && end.backoff) {
        this.#state = {
          ...this.#state,
          backoff: this.#state.backoff + 1,
          backoffReason: end.message,
        };
      }
    }
    this.#o.metrics.updates.inc({ which: "svc", outcome: result.outcome });
    this.#o.metrics.updateDuration.observe((this.#now() - t0) / 1000);
    this.#state = withHistory(this.#state, historyEntry(result, request, this.#now()));
    await this.#save();
    log.info(result.outcome === "installed" ? "update installed" : "update ended", {
      outcome: result.outcome,
      from: `${from.version}/${from.goVersion}`,
      ...(result.reason ? { reason: result.reason } : {}),
    });
    if (config.update.after !== "") {
      const problem = await runHook(config.update.after, {
        ...env,
        YSCO_OUTCOME: result.outcome,
        YSCO_REASON: result.reason ?? "",
      });
      if (problem !== undefined) this.#log.warn("after command failed", { err: problem });
    }
    return result;
  }

  /**
   * Watches a newly started version until it counts as good: it must not exit
   * within max(5s, update.soak), must answer health_url with 2xx within
   * health_timeout, and must stay healthy through the soak. Returns the problem, or
   * undefined when it is good.
   */
  async #watchNew(proc: ServiceProcess, config: Config): Promise<string | undefined> {
    const abort = new AbortController();
    let fail: (reason: string) => void = () => {};
    const failed = new Promise<string>((resolve) => fail = resolve);
    this.#watch = { proc, fail };
    const window = Math.max(QUICK_EXIT_MS, config.update.soak);
    const url = config.update.health_url;
    try {
      const checks = (async (): Promise<string | undefined> => {
        const started = this.#now();
        if (url !== "") {
          this.#phase("checking health");
          const problem = await waitHealthy(url, {
            timeoutMs: config.update.health_timeout,
            signal: abort.signal,
          });
          if (problem !== undefined) return `health check of ${url}: ${problem}`;
          this.#report(true);
        }
        this.#phase("soaking");
        while (this.#now() - started < window) {
          await sleep(
            Math.min(window - (this.#now() - started), url === "" ? window : 5000),
            abort.signal,
          );
          if (abort.signal.aborted) return undefined;
          if (url !== "" && this.#now() - started < window) {
            const problem = await waitHealthy(url, { timeoutMs: 5000, signal: abort.signal });
            if (problem !== undefined) return `health check of ${url} during the soak: ${problem}`;
          }
        }
        return undefined;
      })();
      return await Promise.race([checks, failed]);
    } finally {
      abort.abort();
      this.#watch = undefined;
    }
  }

  // ---- fleet coordination ----

  /**
   * Waits for a fleet slot for the update to `to`.
   * @throws UpdateEnd "cancelled" (without backoff) when the wait was given up
   */
  async #acquireSlot(gate: FleetGate, request: UpdateRequest, to: Release): Promise<FleetSlot> {
    this.#phase("waiting for a fleet slot");
    const abort = new AbortController();
    this.#fleetWait = { abort, request };
    try {
      return await gate.acquire(to, { signal: abort.signal });
    } catch (err) {
      const why = abort.signal.aborted
        ? errorMessage(abort.signal.reason)
        : this.#stopped
        ? "ysco is stopping"
        : undefined;
      if (why === undefined) throw err;
      throw new UpdateEnd("cancelled", `waiting for a fleet slot: ${why}`, { backoff: false });
    } finally {
      this.#fleetWait = undefined;
    }
  }

  /**
   * Gives up a wait for a fleet slot when its update is no longer wanted: a scheduled
   * update that left the schedule (a newer version replaced it, or an operator
   * cancelled it), or when automatic updates were paused. Manual updates wait until
   * they get their slot or ysco stops.
   */
  #checkFleetWait(): void {
    const wait = this.#fleetWait;
    if (wait === undefined || wait.request.manual) return;
    const r = wait.request;
    const scheduled = this.#state.scheduled.some((u) =>
      u.which === r.which && u.version === r.version && u.goVersion === r.goVersion
    );
    if (this.#state.pauseReason !== "") {
      wait.abort.abort(new Error("automatic updates were paused"));
    } else if (!scheduled) {
      wait.abort.abort(
        new Error("no longer scheduled (replaced by a newer version, or cancelled)"),
      );
    }
  }

  /** Puts the previous binary back, restarts it and pauses automatic updates. */
  async #rollback(
    previous: string,
    old: ServiceInfo,
    problem: string,
    config: Config,
  ): Promise<void> {
    this.#phase("rolling back");
    const failed = this.#svc;
    const reason =
      `${failed.modPath} ${failed.version} ${failed.goVersion} failed after an update: ${problem}`;
    this.#log.error("new version failed, rolling back and pausing automatic updates", {
      err: problem,
      prevbinary: previous,
      prevversion: old.version,
      prevgoversion: old.goVersion,
    });
    this.#o.metrics.serviceRollbacks.inc();
    // The failed release leaves the schedule: after an unpause it must not come back.
    const bad = (u: ScheduledUpdate) =>
      u.which === "svc" && u.version === failed.version && u.goVersion === failed.goVersion;
    this.#state = {
      ...this.#state,
      pauseReason: reason,
      scheduled: this.#state.scheduled.filter((u) => !bad(u)),
    };
    this.#o.metrics.updatesPaused.set(1);
    await this.#save();
    await this.#stopService(config);
    try {
      await installBinary(
        previous,
        this.#cmdAbs,
        versionFileName(
          failed.modPath,
          failed.pkgDir,
          failed.version,
          failed.goVersion,
          failed.goos,
        ),
      );
      this.#svc = old;
    } catch (err) {
      // The service must not stay stopped: run what CMD points to, and say so.
      this.#log.error("cannot switch back to the previous binary; starting the current one", {
        err: errorMessage(err),
      });
    }
    this.#setVersionMetrics();
    this.#rolledBack = this.#startService(); // throws when terminating: ysco ends anyway
    this.#report(true, problem);
    this.#log.warn("rolled back after failed update", {
      version: this.#svc.version,
      goversion: this.#svc.goVersion,
    });
  }

  async #stopService(config: Config): Promise<void> {
    const proc = this.#proc;
    if (proc === undefined) return;
    this.#stopping.add(proc);
    await this.#o.supervisor.stop(config.update.stop_timeout);
  }

  // ---- helpers ----

  #phase(phase: string): void {
    if (this.#busy) this.#busy = { ...this.#busy, phase };
  }

  #runningRelease(): Release {
    return { version: this.#svc.version, goVersion: this.#svc.goVersion };
  }

  #report(healthy: boolean, lastError = ""): void {
    this.#o.gate?.report({
      ...this.#runningRelease(),
      healthy,
      lastError,
      paused: this.#state.pauseReason !== "",
    });
  }

  /** Tells the fleet that automatic updates were paused or unpaused (no canary while paused). */
  #reportPaused(): void {
    this.#o.gate?.report({
      ...this.#runningRelease(),
      healthy: true,
      paused: this.#state.pauseReason !== "",
    });
  }

  #setVersionMetrics(): void {
    this.#o.metrics.serviceVersion.setOnly({ version: this.#svc.version });
    this.#o.metrics.serviceGoVersion.setOnly({ version: this.#svc.goVersion });
  }

  /** Writes the state; writes never overlap, and a failure is logged, not fatal. */
  #save(): Promise<void> {
    this.#saving = this.#saving.then(async () => {
      try {
        await writeState(this.#o.dir, sortedState(this.#state));
      } catch (err) {
        this.#log.error("writing state", { err: errorMessage(err) });
      }
    });
    return this.#saving;
  }
}

/** The end of an update that did not install. */
class UpdateEnd extends Error {
  readonly outcome: Outcome;
  /** Whether a scheduled update backs off before it is tried again. */
  readonly backoff: boolean;
  constructor(outcome: Outcome, message: string, options: { backoff?: boolean } = {}) {
    super(message);
    this.name = "UpdateEnd";
    this.outcome = outcome;
    this.backoff = options.backoff ?? true;
  }
}

/** The service fields the updater needs, from build info. */
export function serviceInfo(bi: BuildInfo): ServiceInfo {
  const modPath = bi.main.path;
  const pkgDir = bi.path === modPath
    ? "/"
    : bi.path.startsWith(modPath + "/")
    ? bi.path.slice(modPath.length)
    : "/";
  return {
    modPath,
    pkgDir,
    path: bi.path,
    version: bi.main.version,
    goVersion: bi.goVersion,
    goos: bi.goos,
    goarch: bi.goarch,
  };
}

const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = { SIGINT: 2, SIGTERM: 15 };

function describeExit(status: ExitStatus): string {
  if (status.startError !== undefined) return `(could not start: ${status.startError})`;
  if (status.signal) return `(killed by ${status.signal})`;
  return `with status ${status.code}`;
}

/** The history entry of an ended update. */
export function historyEntry(
  result: UpdateResult,
  request: UpdateRequest,
  now: number,
): HistoryEntry {
  return {
    time: new Date(now).toISOString(),
    which: request.which,
    from: result.from,
    to: result.to,
    outcome: result.outcome,
    ...(result.reason ? { reason: result.reason } : {}),
    manual: request.manual,
  };
}

function sortedState(state: State): State {
  return { ...state, scheduled: sortScheduled(state.scheduled) };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
