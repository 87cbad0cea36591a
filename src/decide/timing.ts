/**
 * When a pending update is installed: the delay after discovery, the schedule,
 * backoff after failures, jitter, and what to do when the update timer fires.
 *
 * Differences from the original (docs/behaviour.md sections 6.4, 7.3-7.5 and 12):
 * - The delay after discovery (`update.delay`, default 72h) is applied.
 * - Backoff doubles from 1h and is capped at 7 days; it counts from the last failed
 *   scheduled attempt when that is later than the update's time, so a failure
 *   never leads to an immediate retry.
 * - Jitter is whole seconds in [0, jitter) (0 when below 1s, so "0s" disables it)
 *   and is counted in allowed time: it spreads starts over the windows and never
 *   pushes a start out of the schedule.
 * - A timer computed from a time in the past starts at the next allowed time from
 *   now, never outside the schedule.
 * - A firing timer respects the pause (docs/behaviour.md section 7.5).
 *
 * Pure functions, no I/O: the time and the random source are parameters.
 *
 * @module
 */

import type { Release, ScheduledUpdate, State, Which } from "../state/state.ts";
import { addAllowedTime, isAllowedTime, nextAllowedTime, type Schedule } from "./schedule.ts";
import { compareGoVersion } from "../version/goversion.ts";
import { compareSemver } from "../version/semver.ts";

const SECOND = 1000;
const HOUR = 3_600_000;

/** Backoff of the first failure. */
export const BACKOFF_BASE = HOUR;
/** Longest backoff. */
export const BACKOFF_MAX = 7 * 24 * HOUR;

/**
 * Whether the scheduled update u is pointless once `running` runs: not a newer
 * version, and not a newer toolchain.
 */
export function supersededBy(u: Release, running: Release): boolean {
  return compareSemver(u.version, running.version) <= 0 &&
    compareGoVersion(u.goVersion, running.goVersion) <= 0;
}

/** The scheduled updates of which that `running` does not make pointless. */
export function withoutSuperseded(
  scheduled: readonly ScheduledUpdate[],
  which: Which,
  running: Release,
): ScheduledUpdate[] {
  return scheduled.filter((u) => u.which !== which || !supersededBy(u, running));
}

/** The program and package an update is for. */
export interface Target {
  which: Which;
  modPath: string;
  /** Package directory in the module: "/" or "/cmd/x". */
  pkgDir: string;
}

/** Options for scheduleUpdate. */
export interface ScheduleUpdateOptions {
  /** The time of discovery. */
  now: Date | number;
  /** Wait after discovery (`update.delay`), in ms. */
  delay: number;
  /** When updates may start. */
  schedule: Schedule;
  /** Keep pending updates of the same target (`update.all`) instead of replacing them. */
  all: boolean;
}

/** The schedule after a discovery. */
export interface ScheduleChange {
  /** All pending updates, sorted by time. */
  scheduled: ScheduledUpdate[];
  /** The new entry. */
  added: ScheduledUpdate;
  /** Pending updates of the same target it replaced. */
  cancelled: ScheduledUpdate[];
}

/** Options for nextUpdate and onTimer. */
export interface TimerOptions {
  now: Date | number;
  schedule: Schedule;
  /** Largest jitter (`update.jitter`), in ms. */
  jitter: number;
  /** Random numbers in [0, 1), for the jitter. */
  random: () => number;
}

/** When the next pending update starts, or why none does. */
export type NextUpdate =
  | { kind: "idle" }
  | { kind: "paused"; reason: string; update: ScheduledUpdate }
  | {
    kind: "scheduled";
    update: ScheduledUpdate;
    /** First allowed time at or after the update's time plus backoff, and not before now (ms). */
    earliest: number;
    /** earliest plus jitter in allowed time (ms): when the timer should fire. */
    at: number;
    /** at minus now, at least 0. */
    wait: number;
    backoff: number;
    jitter: number;
  };

/** What to do when the update timer fires. */
export type TimerAction =
  | { action: "install"; update: ScheduledUpdate }
  | { action: "reschedule"; reason: string }
  | { action: "none"; reason: string };

/** Options for onTimer. */
export interface OnTimerOptions {
  now: Date | number;
  schedule: Schedule;
  /** An update is in progress (its end recomputes the timer). */
  busy: boolean;
}

/**
 * The extra wait after count consecutive failures: 0, then 1h, 2h, 4h, ... at most
 * 7 days.
 */
export function backoffDelay(count: number): number {
  if (!(count > 0)) return 0;
  // 2^8 h > 7 days; avoid computing huge powers.
  if (count > 9) return BACKOFF_MAX;
  return Math.min(BACKOFF_BASE * 2 ** (count - 1), BACKOFF_MAX);
}

/**
 * A random jitter for a maximum of max ms: whole seconds, uniform in [0, max) (so
 * 0 for max below 1s).
 * @param random returns numbers in [0, 1)
 */
export function jitterDelay(max: number, random: () => number): number {
  const seconds = Math.floor(max / SECOND);
  if (seconds <= 0) return 0;
  const r = random();
  return Math.min(Math.floor(r * seconds), seconds - 1) * SECOND;
}

/**
 * The reference for the next decision about a target (docs/behaviour.md section 6.4): the
 * last pending update for it, else the running release.
 */
export function referenceRelease(
  scheduled: readonly ScheduledUpdate[],
  which: Which,
  running: Release,
): Release & { pending?: ScheduledUpdate } {
  let last: ScheduledUpdate | undefined;
  for (const u of scheduled) {
    if (u.which === which && (last === undefined || Date.parse(u.time) >= Date.parse(last.time))) {
      last = u;
    }
  }
  return last === undefined
    ? { version: running.version, goVersion: running.goVersion }
    : { version: last.version, goVersion: last.goVersion, pending: last };
}

/**
 * Adds a discovered update to the pending updates: it may start at the first
 * allowed time after now + delay. Unless options.all, pending updates for the same
 * program are cancelled (a newer discovery replaces them).
 */
export function scheduleUpdate(
  scheduled: readonly ScheduledUpdate[],
  update: Target & Release,
  options: ScheduleUpdateOptions,
): ScheduleChange {
  const now = toMs(options.now);
  const time = nextAllowedTime(options.schedule, now + options.delay);
  const added: ScheduledUpdate = {
    time: new Date(time).toISOString(),
    which: update.which,
    modPath: update.modPath,
    pkgDir: update.pkgDir,
    version: update.version,
    goVersion: update.goVersion,
    discovered: new Date(now).toISOString(),
  };
  const cancelled = options.all ? [] : scheduled.filter((u) => u.which === update.which);
  const kept = scheduled.filter((u) => !cancelled.includes(u));
  return { scheduled: sortScheduled([...kept, added]), added, cancelled };
}

/** Pending updates sorted by time (stable for equal times). */
export function sortScheduled(scheduled: readonly ScheduledUpdate[]): ScheduledUpdate[] {
  return [...scheduled].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

/**
 * When a pending update is due, before the schedule and jitter: its time, plus the
 * backoff, counted from the last failed scheduled attempt when that is later.
 * @returns milliseconds since the epoch
 */
export function dueTime(
  state: Pick<State, "backoff" | "history">,
  update: ScheduledUpdate,
): number {
  const backoff = backoffDelay(state.backoff);
  let base = Date.parse(update.time);
  if (backoff > 0) {
    const failed = lastScheduledFailure(state);
    if (failed !== undefined && failed > base) base = failed;
  }
  return base + backoff;
}

/**
 * The time a pending update may start, before jitter: the first allowed time at or
 * after its due time, and not before now.
 * @returns milliseconds since the epoch
 */
export function earliestStart(
  state: Pick<State, "backoff" | "history">,
  update: ScheduledUpdate,
  options: { now: Date | number; schedule: Schedule },
): number {
  return nextAllowedTime(options.schedule, Math.max(toMs(options.now), dueTime(state, update)));
}

/**
 * When the update timer should fire (docs/behaviour.md section 7.4): for the earliest pending
 * update, its earliest start plus a fresh jitter. Nothing while paused.
 */
export function nextUpdate(
  state: Pick<State, "pauseReason" | "scheduled" | "backoff" | "history">,
  options: TimerOptions,
): NextUpdate {
  const head = sortScheduled(state.scheduled)[0];
  if (head === undefined) return { kind: "idle" };
  if (state.pauseReason !== "") return { kind: "paused", reason: state.pauseReason, update: head };
  const now = toMs(options.now);
  const earliest = earliestStart(state, head, options);
  const jitter = jitterDelay(options.jitter, options.random);
  const at = addAllowedTime(options.schedule, earliest, jitter);
  return {
    kind: "scheduled",
    update: head,
    earliest,
    at,
    wait: Math.max(0, at - now),
    backoff: backoffDelay(state.backoff),
    jitter,
  };
}

/**
 * What to do when the update timer fires (docs/behaviour.md section 7.5, with the pause checked):
 * install the earliest pending update when it is due and now is allowed, else
 * recompute the timer or do nothing.
 */
export function onTimer(
  state: Pick<State, "pauseReason" | "scheduled" | "backoff" | "history">,
  options: OnTimerOptions,
): TimerAction {
  const head = sortScheduled(state.scheduled)[0];
  if (head === undefined) return { action: "none", reason: "no update scheduled" };
  if (options.busy) return { action: "none", reason: "an update is in progress" };
  if (state.pauseReason !== "") {
    return { action: "none", reason: `updates are paused: ${state.pauseReason}` };
  }
  const now = toMs(options.now);
  if (now < dueTime(state, head)) {
    return { action: "reschedule", reason: "the update is not due yet" };
  }
  if (!isAllowedTime(options.schedule, now)) {
    return { action: "reschedule", reason: "the schedule does not allow updates now" };
  }
  return { action: "install", update: head };
}

/** Formats a wait as "3d 2h 5m", "2h 0m", "5m 10s" or "now". */
export function formatWait(ms: number): string {
  if (ms < SECOND) return "now";
  const s = Math.floor(ms / SECOND);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m ${s % 60}s`;
}

/** Time of the last failed or cancelled scheduled (not manual) update in the history, in ms. */
function lastScheduledFailure(state: Pick<State, "history">): number | undefined {
  for (let i = state.history.length - 1; i >= 0; i--) {
    const h = state.history[i];
    if (h !== undefined && (h.outcome === "failed" || h.outcome === "cancelled") && !h.manual) {
      const t = Date.parse(h.time);
      return Number.isNaN(t) ? undefined : t;
    }
  }
  return undefined;
}

function toMs(t: Date | number): number {
  return typeof t === "number" ? t : t.getTime();
}
