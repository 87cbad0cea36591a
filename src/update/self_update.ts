/**
 * Updates of ysco itself, from its signed release feed: checks (policy.self, with
 * the service's schedule, delay and pause), the update (download and verify next to
 * ysco's path, try the new binary, exec it keeping the pid and the service), the new
 * process's confirmation, and noticing at a start that a new version did not come up.
 *
 * @module
 */

import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Config } from "../config/config.ts";
import { planUpdate } from "../decide/plan.ts";
import { pickUpdate } from "../decide/policy.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { dupInheritable, execve, findConnectionFd, writeAndClose } from "../self/exec.ts";
import { EXEC_ENV, execAnswer, type ExecState } from "../self/exec_state.ts";
import { SELF_ENV } from "../self_path.ts";
import {
  type Outcome,
  type Release,
  type ScheduledUpdate,
  type State,
  withHistory,
} from "../state.ts";
import type { ServiceProcess } from "../supervise/supervisor.ts";
import { compareSemver } from "../version/semver.ts";
import type { YscoMetrics } from "../ysco_metrics.ts";
import { currentBinary, installBinary, removeOldBinary } from "./install.ts";
import {
  type CheckReport,
  historyEntry,
  type SelfInfo,
  type UpdateRequest,
  type UpdateResult,
} from "./updater.ts";

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

/** What self-updates need from the updater, which owns the state. */
export interface SelfUpdateHost {
  /** The state; assigning it changes the updater's. */
  state: State;
  /** Writes the state. */
  save(): Promise<void>;
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: YscoMetrics;
  readonly self: SelfInfo;
  now(): number;
  /** Tells the status page what the update is doing. */
  phase(phase: string): void;
  /** The service process, whose pid and start the new ysco takes over. */
  proc(): ServiceProcess | undefined;
}

/** ysco's own updates. */
export class SelfUpdates {
  #h: SelfUpdateHost;

  /** @param host the updater's side */
  constructor(host: SelfUpdateHost) {
    this.#h = host;
  }

  /** Looks up ysco's releases in its feed and schedules what policy.self takes. */
  async check(report: CheckReport, config: Config): Promise<void> {
    const m = this.#h.metrics;
    const self = this.#h.self;
    try {
      const { fetchFeed, feedMark, filesFor } = await releases();
      const feed = await fetchFeed(
        config.self.feed_url,
        config.self.verifier_key,
        this.#h.state.selfFeed,
        FEED_TIMEOUT_MS,
      );
      this.#h.state = { ...this.#h.state, selfFeed: feedMark(feed) };
      const versions = filesFor(feed, self.platform).map((f) => f.version);
      report.selfVersions = versions;
      m.selfNewerVersionAvailable.set(
        versions.some((v) => compareSemver(v, self.version) > 0) ? 1 : 0,
      );
      const found = { versions, toolchains: { cur: "", prev: "", next: "" } };
      const policy = { version: config.policy.self, toolchain: "manual" as const };
      m.selfUpdateAvailable.set(
        pickUpdate({ version: self.version, goVersion: "" }, found, policy).update ? 1 : 0,
      );
      const plan = planUpdate({
        target: { which: "self", modPath: "ysco", pkgDir: "/" },
        running: { version: self.version, goVersion: "" },
        found,
        policy,
        update: config.update,
        state: this.#h.state,
        now: this.#h.now(),
      });
      if (plan.added) {
        this.#h.log.info("found new version of ysco", {
          newversion: plan.added.version,
          reason: plan.decision.reason,
        });
        this.#h.state = { ...this.#h.state, scheduled: plan.scheduled };
      }
    } catch (err) {
      report.selfError = errorMessage(err);
      m.monitorErrors.inc();
      this.#h.log.error("looking for updates for self", { err: report.selfError });
    }
  }

  /**
   * Replaces the running ysco with a release from its feed, keeping the pid and the
   * service: download and verify next to ysco's path, try it, then exec it. The new
   * process confirms the update (and switches the ysco symlink) once it is up; a
   * start of this version that finds the update unconfirmed knows it failed.
   */
  async update(request: UpdateRequest, from: Release): Promise<UpdateResult> {
    const config = this.#h.config;
    const self = this.#h.self;
    const to = { version: request.version, goVersion: "" };
    const log = this.#h.log.with({ which: "self", version: to.version });
    const fail = async (reason: string): Promise<UpdateResult> => {
      log.error("self-update failed", { err: reason });
      const result: UpdateResult = { outcome: "failed", from, to, reason };
      if (!request.manual) {
        this.#h.metrics.updateErrors.inc();
        this.#h.state = {
          ...this.#h.state,
          backoff: this.#h.state.backoff + 1,
          backoffReason: reason,
        };
      }
      this.#h.metrics.updates.inc({ which: "self", outcome: "failed" });
      this.#h.state = withHistory(
        { ...this.#h.state, selfUpdate: undefined },
        historyEntry(result, request, this.#h.now()),
      );
      await this.#h.save();
      return result;
    };
    if (config.self.feed_url === "") {
      return await fail("no release feed configured ([self] feed_url)");
    }
    let final: string;
    try {
      this.#h.phase("downloading");
      const { checkRuns, downloadRelease, fetchFeed, feedMark, filesFor } = await releases();
      const feed = await fetchFeed(
        config.self.feed_url,
        config.self.verifier_key,
        this.#h.state.selfFeed,
        config.gobuild.timeout,
      );
      this.#h.state = { ...this.#h.state, selfFeed: feedMark(feed) };
      const file = filesFor(feed, self.platform).find((f) => f.version === to.version);
      if (file === undefined) throw new Error(`the feed has no ${to.version} for ${self.platform}`);
      const selfAbs = isAbsolute(self.path) ? self.path : resolve(Deno.cwd(), self.path);
      const current = await currentBinary(selfAbs);
      final = join(dirname(selfAbs), `ysco-${to.version}`);
      if (final === current) throw new Error(`${final} is the running binary already`);
      const temp = await downloadRelease(file, final, current, config.gobuild.timeout);
      this.#h.phase("trying the new version");
      const problem = await checkRuns(temp, to.version);
      if (problem !== undefined) {
        await Deno.remove(temp).catch(() => {});
        throw new Error(problem);
      }
      await Deno.rename(temp, final);
      log.info("downloaded and tried new version of ysco", { path: final, sha256: file.sha256 });
      this.#h.state = {
        ...this.#h.state,
        selfUpdate: {
          from: { version: from.version, path: current },
          to: { version: to.version, path: final },
          time: new Date(this.#h.now()).toISOString(),
          manual: request.manual,
        },
      };
      await this.#h.save();
    } catch (err) {
      return await fail(errorMessage(err));
    }

    const proc = this.#h.proc();
    let requestFd = 0;
    if (request.handoff) {
      try {
        const fd = findConnectionFd(request.handoff.localPort, request.handoff.remote);
        if (fd !== undefined) requestFd = dupInheritable(fd);
        else {
          log.warn("cannot find the connection of the request; the new ysco cannot answer it", {
            remote: `${request.handoff.remote.hostname}:${request.handoff.remote.port}`,
          });
        }
      } catch (err) {
        log.warn("cannot hand the request over to the new ysco; it will not get an answer", {
          err: errorMessage(err),
        });
      }
    }
    const state: ExecState = {
      pid: proc?.pid ?? 0,
      started: proc?.startedAt ?? 0,
      oldVersion: from.version,
      newVersion: to.version,
      newBinary: final,
      requestFd,
      redirect: request.handoff?.redirect ?? false,
    };
    this.#h.phase("replacing ysco");
    log.info("replacing ysco with the new version, the service keeps running", {
      pid: state.pid,
      ...(request.handoff ? { requestfd: requestFd } : {}),
    });
    const env = {
      ...Deno.env.toObject(),
      [EXEC_ENV]: JSON.stringify(state),
      [SELF_ENV]: self.path,
    };
    const err = execve(final, self.argv, env);
    // Still here: the exec failed. The service was never touched.
    return await fail(`exec: ${err.message}`);
  }

  /** In the new process after an exec: point ysco's path to itself, record, answer. */
  async confirm(exec: ExecState): Promise<void> {
    const self = this.#h.self;
    const log = this.#h.log.with({ which: "self" });
    log.info("ysco back after exec", { prev: exec.oldVersion, new: self.version, pid: exec.pid });
    const pending = this.#h.state.selfUpdate;
    const from = { version: exec.oldVersion, goVersion: "" };
    const to = { version: self.version, goVersion: "" };
    let outcome: Outcome = "installed";
    let reason: string | undefined;
    try {
      const selfAbs = isAbsolute(self.path) ? self.path : resolve(Deno.cwd(), self.path);
      const installed = await installBinary(exec.newBinary, selfAbs, `ysco-${exec.oldVersion}`);
      const oldPrevious = this.#h.state.previousBinarySelf;
      if (oldPrevious !== "" && oldPrevious !== installed.previous) {
        await removeOldBinary(oldPrevious, selfAbs, [installed.previous, exec.newBinary]).catch((
          err,
        ) =>
          log.warn("cannot remove older ysco binary", { path: oldPrevious, err: errorMessage(err) })
        );
      }
      this.#h.state = {
        ...this.#h.state,
        previousBinarySelf: installed.previous,
        scheduled: this.#h.state.scheduled.filter((u) =>
          !(u.which === "self" && compareSemver(u.version, self.version) <= 0)
        ),
      };
      if (pending && !pending.manual) {
        this.#h.state = { ...this.#h.state, backoff: 0, backoffReason: "" };
      }
      log.info("update installed", { version: self.version, from: exec.oldVersion });
    } catch (err) {
      // Running the new version, but ysco's path still names the old one: the next
      // start runs the old one again.
      outcome = "failed";
      reason = `new ysco runs, but cannot point ${self.path} to it: ${errorMessage(err)}`;
      log.error("self-update not finished", { err: reason });
    }
    this.#h.metrics.updates.inc({ which: "self", outcome });
    const result: UpdateResult = { outcome, from, to, ...(reason ? { reason } : {}) };
    this.#h.state = withHistory(
      { ...this.#h.state, selfUpdate: undefined },
      historyEntry(
        result,
        { which: "self", ...to, manual: pending?.manual ?? false },
        this.#h.now(),
      ),
    );
    await this.#h.save();
    if (exec.requestFd > 0) {
      try {
        writeAndClose(exec.requestFd, execAnswer(exec));
      } catch (err) {
        log.warn("cannot answer the request that asked for the update", { err: errorMessage(err) });
      }
    }
  }

  /**
   * At a normal start: a self-update that this version handed over to a new one and
   * that was never confirmed means the new version did not come up. Recorded, and
   * automatic updates pause until an operator looks.
   */
  async checkUnconfirmed(): Promise<void> {
    const pending = this.#h.state.selfUpdate;
    if (pending === undefined) return;
    const self = this.#h.self;
    if (pending.from.version !== self.version) {
      this.#h.state = { ...this.#h.state, selfUpdate: undefined };
      await this.#h.save();
      return;
    }
    const reason =
      `ysco ${pending.to.version} did not come up after the self-update; running ${self.version} again`;
    const result: UpdateResult = {
      outcome: "rolled back",
      from: { version: pending.from.version, goVersion: "" },
      to: { version: pending.to.version, goVersion: "" },
      reason,
    };
    this.#h.metrics.updates.inc({ which: "self", outcome: "rolled back" });
    this.#h.metrics.updatesPaused.set(1);
    const bad = (u: ScheduledUpdate) => u.which === "self" && u.version === pending.to.version;
    this.#h.state = withHistory(
      {
        ...this.#h.state,
        selfUpdate: undefined,
        pauseReason: reason,
        scheduled: this.#h.state.scheduled.filter((u) => !bad(u)),
      },
      historyEntry(result, { which: "self", ...result.to, manual: pending.manual }, this.#h.now()),
    );
    await this.#h.save();
    this.#h.log.error("self-update failed: the new version did not come up", {
      version: pending.to.version,
    });
  }

  // ---- helpers ----
}
