/**
 * Updates of ysco itself, from its signed release feed: checks (policy.self, with
 * the service's schedule, delay and pause), the update (download and verify next to
 * ysco's path, try the new binary, exec it keeping the pid and the service), and
 * the journal that tells at the next start how an exec ended:
 *
 * - "exec", written right before the exec: found by a start of the old version, the
 *   new one never ran (a release that cannot start): rolled back, updates paused.
 * - "up", written by the new process as soon as it runs, before anything can stop
 *   it: found by a start of the old version, the new one ran but was stopped before
 *   it confirmed: recorded as cancelled, tried again later, no pause.
 * - the new process confirms: the `ysco` symlink names it, the history says so.
 *
 * A stop (SIGTERM, SIGINT) before the exec cancels it; one during the exec stays
 * pending (blocked across the exec) and reaches the new process once it listens.
 *
 * @module
 */

import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Config } from "../config/config.ts";
import { planUpdate } from "../decide/plan.ts";
import { pickUpdate } from "../decide/policy.ts";
import { withoutSuperseded } from "../decide/timing.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  blockStopSignals,
  dupInheritable,
  execve,
  findConnectionFd,
  unblockStopSignals,
  writeAndClose,
} from "../self/exec.ts";
import { EXEC_ENV, execAnswer, type ExecState } from "../self/exec_state.ts";
import { SELF_ENV } from "../self/self_path.ts";
import { heldListenSockets, setListenSocketsInherited } from "../supervise/listen_sockets.ts";
import { type Outcome, type ScheduledUpdate, type State, withHistory } from "../state/state.ts";
import { compareSemver } from "../version/semver.ts";
import type { YscoMetrics } from "../metrics/ysco_metrics.ts";
import type { Clock } from "./clock.ts";
import { failpoint } from "./failpoint.ts";
import { currentBinary, installBinary, removeOldBinary } from "./install.ts";
import type { ServiceLifetime } from "./lifetime.ts";
import type { StateStore } from "./store.ts";
import {
  type CheckReport,
  historyEntry,
  type SelfInfo,
  type UpdateRequest,
  type UpdateResult,
} from "./types.ts";

/** Time limit of a feed lookup during a check, as for the other discovery methods. */
const FEED_TIMEOUT_MS = 30_000;

/** The feed and release code (Ed25519, streaming SHA-256): loaded when first needed. */
async function releases() {
  const [feed, release] = await Promise.all([
    import("../self/feed.ts"),
    import("../self/release.ts"),
  ]);
  return { ...feed, ...release };
}

/** What self-updates work with. */
export interface SelfUpdateOptions {
  store: StateStore;
  lifetime: ServiceLifetime;
  log: Logger;
  metrics: YscoMetrics;
  self: SelfInfo;
  clock: Clock;
  /** The current configuration. */
  config(): Config;
  /** Tells the status page what the update is doing. */
  phase(phase: string): void;
  /** Aborted when ysco ends: a self-update in progress ends at once. */
  signal: AbortSignal;
}

/** ysco's own updates. */
export class SelfUpdates {
  #o: SelfUpdateOptions;

  /** @param options what it works with */
  constructor(options: SelfUpdateOptions) {
    this.#o = options;
  }

  /** Looks up ysco's releases in its feed and schedules what policy.self takes. */
  async check(report: CheckReport, config: Config): Promise<void> {
    const o = this.#o;
    const m = o.metrics;
    try {
      const { fetchFeed, feedMark, filesFor } = await releases();
      const feed = await fetchFeed(
        config.self.feed_url,
        config.self.verifier_key,
        o.store.state.selfFeed,
        FEED_TIMEOUT_MS,
      );
      o.store.set({ ...o.store.state, selfFeed: feedMark(feed) });
      const versions = filesFor(feed, o.self.platform).map((f) => f.version);
      report.selfVersions = versions;
      m.selfNewerVersionAvailable.set(
        versions.some((v) => compareSemver(v, o.self.version) > 0) ? 1 : 0,
      );
      const found = { versions, toolchains: { cur: "", prev: "", next: "" } };
      const policy = { version: config.policy.self, toolchain: "manual" as const };
      m.selfUpdateAvailable.set(
        pickUpdate({ version: o.self.version, goVersion: "" }, found, policy).update ? 1 : 0,
      );
      const plan = planUpdate({
        target: { which: "self", modPath: "ysco", pkgDir: "/" },
        running: { version: o.self.version, goVersion: "" },
        found,
        policy,
        update: config.update,
        state: o.store.state,
        now: o.clock.now(),
      });
      if (plan.added) {
        o.log.info("found new version of ysco", {
          newversion: plan.added.version,
          reason: plan.decision.reason,
        });
        o.store.set({ ...o.store.state, scheduled: plan.scheduled });
      }
    } catch (err) {
      report.selfError = errorMessage(err);
      m.monitorErrors.inc();
      o.log.error("looking for updates for self", { err: report.selfError });
    }
  }

  /**
   * Replaces the running ysco with a release from its feed, keeping the pid and the
   * service: download and verify next to ysco's path, try it, then exec it. Resolves
   * only when the update did not happen (the exec replaces this program).
   */
  async update(request: UpdateRequest): Promise<UpdateResult> {
    const o = this.#o;
    const config = o.config();
    const from = { version: o.self.version, goVersion: "" };
    const to = { version: request.version, goVersion: "" };
    const log = o.log.with({ which: "self", version: to.version });
    const end = async (outcome: Outcome, reason: string): Promise<UpdateResult> => {
      const result: UpdateResult = { outcome, from, to, reason };
      log.error(outcome === "cancelled" ? "self-update cancelled" : "self-update failed", {
        err: reason,
      });
      let s = { ...o.store.state, selfUpdate: undefined };
      if (outcome === "failed" && !request.manual) {
        o.metrics.updateErrors.inc();
        s = { ...s, backoff: s.backoff + 1, backoffReason: reason };
      }
      o.metrics.updates.inc({ which: "self", outcome });
      try {
        await o.store.commit(withHistory(s, historyEntry(result, request, o.clock.now())));
      } catch (err) {
        result.stateError = errorMessage(err);
      }
      return result;
    };
    if (config.self.feed_url === "") {
      return await end("failed", "no release feed configured ([self] feed_url)");
    }
    let final: string;
    try {
      o.phase("downloading");
      const { checkRuns, downloadRelease, fetchFeed, feedMark, filesFor } = await releases();
      const feed = await fetchFeed(
        config.self.feed_url,
        config.self.verifier_key,
        o.store.state.selfFeed,
        config.gobuild.timeout,
      );
      o.store.set({ ...o.store.state, selfFeed: feedMark(feed) });
      const file = filesFor(feed, o.self.platform).find((f) => f.version === to.version);
      if (file === undefined) {
        throw new Error(`the feed has no ${to.version} for ${o.self.platform}`);
      }
      if (!o.self.path.includes("/")) {
        throw new Error(
          `ysco was started as "${o.self.path}" (through PATH, or as deno run of its sources): ` +
            "a self-update needs the path of a release executable, the bundle or bin/ysco",
        );
      }
      const selfAbs = absolute(o.self.path);
      const current = await currentBinary(selfAbs);
      final = join(dirname(selfAbs), `ysco-${to.version}`);
      if (final === current) throw new Error(`${final} is the running binary already`);
      const temp = await downloadRelease(file, final, current, {
        timeoutMs: config.gobuild.timeout,
        signal: o.signal,
      });
      o.phase("trying the new version");
      const problem = await checkRuns(temp, to.version);
      if (problem !== undefined) {
        await Deno.remove(temp).catch(() => {});
        throw new Error(problem);
      }
      await Deno.rename(temp, final);
      log.info("downloaded and tried new version of ysco", { path: final, sha256: file.sha256 });
      await o.store.commit({
        ...o.store.state,
        selfUpdate: {
          from: { version: from.version, path: current },
          to: { version: to.version, path: final },
          time: new Date(o.clock.now()).toISOString(),
          manual: request.manual,
          phase: "exec",
        },
      });
    } catch (err) {
      if (o.signal.aborted) return await end("cancelled", errorMessage(o.signal.reason));
      return await end("failed", errorMessage(err));
    }
    await failpoint("self-exec", log, o.signal);
    if (o.signal.aborted) return await end("cancelled", errorMessage(o.signal.reason));

    const proc = o.lifetime.current;
    const state: ExecState = {
      pid: proc?.pid ?? 0,
      started: proc?.startedAt ?? 0,
      oldVersion: from.version,
      newVersion: to.version,
      newBinary: final,
      requestFd: this.#handoffFd(request, log),
      redirect: request.handoff?.redirect ?? false,
      listen: heldListenSockets(),
    };
    o.phase("replacing ysco");
    log.info("replacing ysco with the new version, the service keeps running", {
      pid: state.pid,
      ...(request.handoff ? { requestfd: state.requestFd } : {}),
    });
    const env = {
      ...Deno.env.toObject(),
      [EXEC_ENV]: JSON.stringify(state),
      [SELF_ENV]: o.self.path,
    };
    // A stop from here on stays pending across the exec, for the new process.
    blockStopSignals();
    setListenSocketsInherited(true);
    const err = execve(final, o.self.argv, env);
    setListenSocketsInherited(false);
    unblockStopSignals();
    // Still here: the exec failed. The service was never touched.
    return await end("failed", `exec: ${err.message}`);
  }

  /**
   * In the new process after an exec, before it listens for signals: records that
   * the new version runs (journal "up").
   */
  async arrived(): Promise<void> {
    const o = this.#o;
    const pending = o.store.state.selfUpdate;
    if (pending === undefined) return;
    try {
      await o.store.commit({ ...o.store.state, selfUpdate: { ...pending, phase: "up" } });
    } catch (err) {
      o.log.error("cannot record that the new ysco runs", { err: errorMessage(err) });
    }
  }

  /** In the new process after an exec: point ysco's path to itself, record, answer. */
  async confirm(exec: ExecState): Promise<void> {
    const o = this.#o;
    const log = o.log.with({ which: "self" });
    log.info("ysco back after exec", { prev: exec.oldVersion, new: o.self.version, pid: exec.pid });
    const pending = o.store.state.selfUpdate;
    const from = { version: exec.oldVersion, goVersion: "" };
    const to = { version: o.self.version, goVersion: "" };
    let outcome: Outcome = "installed";
    let reason: string | undefined;
    try {
      const selfAbs = absolute(o.self.path);
      const installed = await installBinary(exec.newBinary, selfAbs, `ysco-${exec.oldVersion}`);
      const oldPrevious = o.store.state.previousBinarySelf;
      if (oldPrevious !== "" && oldPrevious !== installed.previous) {
        await removeOldBinary(oldPrevious, selfAbs, [installed.previous, exec.newBinary]).catch((
          err,
        ) =>
          log.warn("cannot remove older ysco binary", { path: oldPrevious, err: errorMessage(err) })
        );
      }
      const s = o.store.state;
      o.store.set({
        ...s,
        previousBinarySelf: installed.previous,
        scheduled: withoutSuperseded(s.scheduled, "self", to),
        ...(pending && !pending.manual ? { backoff: 0, backoffReason: "" } : {}),
      });
    } catch (err) {
      // Running the new version, but ysco's path still names the old one: the next
      // start runs the old one again.
      outcome = "failed";
      reason = `new ysco runs, but cannot point ${o.self.path} to it: ${errorMessage(err)}`;
      log.error("self-update not finished", { err: reason });
    }
    o.metrics.updates.inc({ which: "self", outcome });
    const result: UpdateResult = { outcome, from, to, ...(reason ? { reason } : {}) };
    await o.store.save(withHistory(
      { ...o.store.state, selfUpdate: undefined },
      historyEntry(result, { which: "self", manual: pending?.manual ?? false }, o.clock.now()),
    ));
    if (outcome === "installed") {
      log.info("update installed", { version: o.self.version, from: exec.oldVersion });
    }
    if (exec.requestFd > 0) {
      try {
        writeAndClose(exec.requestFd, execAnswer(exec));
      } catch (err) {
        log.warn("cannot answer the request that asked for the update", { err: errorMessage(err) });
      }
    }
  }

  /**
   * At a normal start: a self-update this version handed over to a new one and that
   * was never confirmed. "exec": the new version did not come up; recorded as a
   * rollback, and automatic updates pause until an operator looks. "up": it came up
   * but was stopped before confirming; recorded as cancelled, tried again later.
   */
  async checkUnconfirmed(): Promise<void> {
    const o = this.#o;
    const pending = o.store.state.selfUpdate;
    if (pending === undefined) return;
    if (pending.from.version !== o.self.version) {
      await o.store.save({ ...o.store.state, selfUpdate: undefined });
      return;
    }
    const from = { version: pending.from.version, goVersion: "" };
    const to = { version: pending.to.version, goVersion: "" };
    const up = pending.phase === "up";
    const outcome: Outcome = up ? "cancelled" : "rolled back";
    const reason = up
      ? `ysco ${pending.to.version} was stopped before it confirmed the self-update; running ${o.self.version} again`
      : `ysco ${pending.to.version} did not come up after the self-update; running ${o.self.version} again`;
    let next: State = { ...o.store.state, selfUpdate: undefined };
    if (!up) {
      const bad = (u: ScheduledUpdate) => u.which === "self" && u.version === pending.to.version;
      next = { ...next, pauseReason: reason, scheduled: next.scheduled.filter((u) => !bad(u)) };
      o.metrics.updatesPaused.set(1);
    }
    o.metrics.updates.inc({ which: "self", outcome });
    await o.store.save(withHistory(
      next,
      historyEntry(
        { outcome, from, to, reason },
        { which: "self", manual: pending.manual },
        o.clock.now(),
      ),
    ));
    if (up) {
      o.log.warn("self-update cancelled: the new version was stopped before it confirmed", {
        version: pending.to.version,
      });
    } else {
      o.log.error("self-update failed: the new version did not come up", {
        version: pending.to.version,
      });
    }
  }

  /** The descriptor of the request's connection, inheritable by the new process; 0 when none. */
  #handoffFd(request: UpdateRequest, log: Logger): number {
    if (!request.handoff) return 0;
    try {
      const fd = findConnectionFd(request.handoff.localPort, request.handoff.remote);
      if (fd !== undefined) return dupInheritable(fd);
      log.warn("cannot find the connection of the request; the new ysco cannot answer it", {
        remote: `${request.handoff.remote.hostname}:${request.handoff.remote.port}`,
      });
    } catch (err) {
      log.warn("cannot hand the request over to the new ysco; it will not get an answer", {
        err: errorMessage(err),
      });
    }
    return 0;
  }
}

function absolute(path: string): string {
  return isAbsolute(path) ? path : resolve(Deno.cwd(), path);
}
