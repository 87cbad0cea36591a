/**
 * The dry run behind `ysco plan` and the updater's handling of a discovery: from
 * the running release, what discovery found, the policies, the update settings and
 * the state, what would be installed, when, and why (or why nothing is).
 *
 * Pure function, no I/O: the time is a parameter.
 *
 * @module
 */

import type { HistoryEntry, Release, ScheduledUpdate, State, Which } from "../state/state.ts";
import { type Decision, type Found, pickUpdate, type Policies } from "./policy.ts";
import { addAllowedTime, describeSchedule, formatZoned, parseSchedule } from "./schedule.ts";
import {
  backoffDelay,
  earliestStart,
  formatWait,
  jitterDelay,
  referenceRelease,
  scheduleUpdate,
  sortScheduled,
  type Target,
} from "./timing.ts";

/** The `[update]` settings that matter for a plan (a Config["update"] fits). */
export interface UpdateSettings {
  /** Wait after discovery, ms. */
  delay: number;
  /** Largest random extra wait, ms. */
  jitter: number;
  /** Keep every discovered update queued instead of replacing a pending one. */
  all: boolean;
  /** Schedule entries, e.g. ["mo-fr 9-17"]; empty means any time. */
  schedule: readonly string[];
  /** IANA time zone of the schedule; "" is local time. */
  timezone: string;
}

/** Everything a plan is computed from. */
export interface PlanInput {
  /** The program the plan is for. */
  target: Target;
  /** The release running now (from the binary's build info). */
  running: Release;
  /** What discovery found. */
  found: Found;
  policy: Policies;
  update: UpdateSettings;
  state: Pick<State, "pauseReason" | "scheduled" | "backoff" | "backoffReason" | "history">;
  now: Date | number;
}

/**
 * The outcome: "scheduled" when this discovery adds an update, "pending" when an
 * update found earlier is still to be installed and nothing newer was found,
 * "paused" when automatic updates are paused, "none" when there is nothing to do.
 */
export type PlanStatus = "scheduled" | "pending" | "paused" | "none";

/** When the target's next update would start. */
export interface PlannedTime {
  update: ScheduledUpdate;
  /** First possible start (ms): the update's time plus backoff, moved into the schedule. */
  earliest: number;
  /** Last possible start with the largest jitter (ms), in allowed time. */
  latest: number;
  /** Backoff included in earliest, ms. */
  backoff: number;
}

/** What would happen, and why. */
export interface Plan {
  status: PlanStatus;
  /** What the decision started from: the last pending update for the target, else the running release. */
  reference: Release & { pending: boolean };
  /** The policies' decision against the reference. */
  decision: Decision;
  /** All pending updates after this discovery: what the updater would write to the state. */
  scheduled: ScheduledUpdate[];
  /** The update this discovery adds. */
  added?: ScheduledUpdate;
  /** Pending updates it replaces. */
  cancelled: ScheduledUpdate[];
  /** The target's next update, also while paused (it would start after unpausing). */
  next?: PlannedTime;
  /** Why updates are paused; "" when not paused. */
  pauseReason: string;
  /** One paragraph for people: what, when (in the schedule's zone and relative), why. */
  summary: string;
}

/**
 * Plans the updates for input.target: decides against the reference (reference
 * 6.4), adds the update to the schedule when there is one, and computes when the
 * target's next update would start.
 * @throws SyntaxError or RangeError when the update settings are invalid (the
 *   configuration's validation rejects those earlier)
 */
export function planUpdate(input: PlanInput): Plan {
  const { target, state, update } = input;
  const schedule = parseSchedule(update.schedule, { timeZone: update.timezone });
  const ref = referenceRelease(state.scheduled, target.which, input.running);
  const reference = {
    version: ref.version,
    goVersion: ref.goVersion,
    pending: ref.pending !== undefined,
  };
  let decision = pickUpdate(
    { ...reference, runningGoVersion: input.running.goVersion },
    input.found,
    input.policy,
  );
  const failed = decision.update ? rolledBack(state.history, target.which, decision) : undefined;
  if (failed !== undefined) {
    // A release that was rolled back is not scheduled again by itself: after an
    // unpause it would fail again. An operator can still install it by hand.
    decision = {
      ...decision,
      version: reference.version,
      goVersion: reference.goVersion,
      update: false,
      reason: `${decision.version} with ${decision.goVersion} was rolled back at ${failed.time}` +
        ` (${failed.reason ?? "it failed"}); not scheduled again, install it by hand to retry`,
    };
  }

  let scheduled = sortScheduled(state.scheduled);
  let added: ScheduledUpdate | undefined;
  let cancelled: ScheduledUpdate[] = [];
  if (decision.update) {
    const change = scheduleUpdate(scheduled, {
      ...target,
      version: decision.version,
      goVersion: decision.goVersion,
    }, { now: input.now, delay: update.delay, schedule, all: update.all });
    ({ scheduled, added, cancelled } = change);
  }

  const first = scheduled.find((u) => u.which === target.which);
  let next: PlannedTime | undefined;
  if (first !== undefined) {
    const earliest = earliestStart(state, first, { now: input.now, schedule });
    const maxJitter = jitterDelay(update.jitter, () => 1 - Number.EPSILON);
    next = {
      update: first,
      earliest,
      latest: addAllowedTime(schedule, earliest, maxJitter),
      backoff: backoffDelay(state.backoff),
    };
  }

  const status: PlanStatus = state.pauseReason !== ""
    ? "paused"
    : added !== undefined
    ? "scheduled"
    : next !== undefined
    ? "pending"
    : "none";
  const plan: Plan = {
    status,
    reference,
    decision,
    scheduled,
    cancelled,
    pauseReason: state.pauseReason,
    summary: "",
  };
  if (added !== undefined) plan.added = added;
  if (next !== undefined) plan.next = next;
  plan.summary = summarize(plan, input, describeSchedule(schedule));
  return plan;
}

/**
 * The last history entry that rolled back release for which, unless the release was
 * installed after it.
 */
export function rolledBack(
  history: readonly HistoryEntry[],
  which: Which,
  release: Release,
): HistoryEntry | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i];
    if (h === undefined || h.which !== which) continue;
    if (h.to.version !== release.version || h.to.goVersion !== release.goVersion) continue;
    if (h.outcome === "installed") return undefined;
    if (h.outcome === "rolled back") return h;
  }
  return undefined;
}

function summarize(plan: Plan, input: PlanInput, scheduleText: string): string {
  const zone = input.update.timezone;
  const now = typeof input.now === "number" ? input.now : input.now.getTime();
  const release = (r: Release) => `${r.version} with ${r.goVersion}`;
  const lines: string[] = [];
  const next = plan.next;
  if (plan.status === "paused") {
    lines.push(`Updates are paused (${plan.pauseReason}): nothing is installed until unpaused.`);
  }
  if (next !== undefined) {
    const verb = plan.status === "paused" ? "Then would install" : "Would install";
    const when = next.latest > next.earliest
      ? `between ${formatZoned(next.earliest, zone)} and ${formatZoned(next.latest, zone)}`
      : `at ${formatZoned(next.earliest, zone)}`;
    lines.push(
      `${verb} ${release(next.update)} ${when} (in ${formatWait(next.earliest - now)}).`,
    );
    if (plan.added === undefined || next.update !== plan.added) {
      const found = next.update.discovered === undefined
        ? ""
        : `, found ${formatZoned(Date.parse(next.update.discovered), zone)}`;
      lines.push(`This update was scheduled earlier${found}.`);
    }
    if (next.backoff > 0) {
      const why = input.state.backoffReason === "" ? "" : `: ${input.state.backoffReason}`;
      lines.push(
        `Includes a backoff of ${formatWait(next.backoff)} after ${input.state.backoff} failed ` +
          `attempt${input.state.backoff === 1 ? "" : "s"}${why}.`,
      );
    }
    lines.push(`Schedule: ${scheduleText}.`);
  }
  lines.push(
    plan.added !== undefined
      ? `Why: ${plan.decision.reason}.`
      : next !== undefined
      ? `Nothing newer: ${plan.decision.reason}.`
      : `No update: ${plan.decision.reason}.`,
  );
  for (const c of plan.cancelled) lines.push(`Replaces the pending update to ${release(c)}.`);
  return lines.join("\n");
}
