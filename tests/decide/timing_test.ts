import { assert, assertEquals } from "../_assert.ts";
import { parseSchedule } from "../../src/decide/schedule.ts";
import {
  backoffDelay,
  dueTime,
  earliestStart,
  formatWait,
  jitterDelay,
  nextUpdate,
  onTimer,
  referenceRelease,
  scheduleUpdate,
  type TimerAction,
} from "../../src/decide/timing.ts";
import {
  emptyState,
  type HistoryEntry,
  type ScheduledUpdate,
  type State,
} from "../../src/state/state.ts";

const H = 3_600_000;
const AMS = "Europe/Amsterdam";
const ANY = parseSchedule([]);
const WORKDAYS = parseSchedule(["mo-fr 9-17"], { timeZone: AMS });

function entry(time: string, version: string, which: "svc" | "self" = "svc"): ScheduledUpdate {
  return {
    time: new Date(time).toISOString(),
    which,
    modPath: which === "svc" ? "example.com/svc" : "example.com/ysco",
    pkgDir: "/",
    version,
    goVersion: "go1.23.3",
  };
}

function failure(time: string, manual = false): HistoryEntry {
  return {
    time: new Date(time).toISOString(),
    which: "svc",
    from: { version: "v1.0.0", goVersion: "go1.23.2" },
    to: { version: "v1.0.1", goVersion: "go1.23.3" },
    outcome: "failed",
    reason: "download failed",
    manual,
  };
}

Deno.test("backoffDelay() doubles from 1h and stops at 7 days", () => {
  const rows: Array<[number, number]> = [
    [0, 0], // no failures
    [1, 1 * H], // first failure
    [2, 2 * H],
    [3, 4 * H],
    [8, 128 * H], // 5d8h: still below the cap
    [9, 168 * H], // 256h capped at 7 days
    [1000, 168 * H], // no overflow
    [-1, 0], // nonsense counts mean none
  ];
  for (const [count, want] of rows) assertEquals(backoffDelay(count), want, `count ${count}`);
});

Deno.test("jitterDelay() draws whole seconds below the maximum, and allows 0s", () => {
  const rows: Array<[number, number, number]> = [
    [H, 0, 0], // lowest draw
    [H, 0.5, 1800_000], // middle
    [H, 0.999999999, 3599_000], // highest draw: one second below the maximum
    [H, 1, 3599_000], // a random source returning 1 is clamped
    [0, 0.7, 0], // "0s" disables jitter
    [500, 0.9, 0], // below a second: none (the original panicked)
    [1500, 0.9, 0], // one whole second: [0, 1) seconds
    [2500, 0.9, 1000], // two whole seconds
  ];
  for (const [max, r, want] of rows) {
    assertEquals(jitterDelay(max, () => r), want, `max ${max} random ${r}`);
  }
});

Deno.test("scheduleUpdate() delays, follows the schedule, and replaces unless all", () => {
  const pendingSvc = entry("2024-10-08T09:00:00+02:00", "v1.0.1");
  const pendingSelf = entry("2024-10-09T09:00:00+02:00", "v0.5.1", "self");
  const update = {
    which: "svc" as const,
    modPath: "example.com/svc",
    pkgDir: "/",
    version: "v1.0.2",
    goVersion: "go1.23.3",
  };
  const now = Date.parse("2024-10-07T22:39:30+02:00"); // Monday evening
  type Row = [string, number, boolean, string, string[], string[]];
  const rows: Row[] = [
    // 72h later is Thursday 22:39, outside 9-17: Friday 09:00; the svc entry is replaced.
    ["default delay", 72 * H, false, "2024-10-11T09:00:00+02:00", ["v0.5.1", "v1.0.2"], ["v1.0.1"]],
    // No delay: Tuesday 09:00, before the self update.
    ["no delay", 0, false, "2024-10-08T09:00:00+02:00", ["v1.0.2", "v0.5.1"], ["v1.0.1"]],
    // update.all keeps the pending svc entry and queues the new one after it.
    ["all", 72 * H, true, "2024-10-11T09:00:00+02:00", ["v1.0.1", "v0.5.1", "v1.0.2"], []],
  ];
  for (const [name, delay, all, time, versions, cancelled] of rows) {
    const change = scheduleUpdate([pendingSvc, pendingSelf], update, {
      now,
      delay,
      schedule: WORKDAYS,
      all,
    });
    assertEquals(change.added.time, new Date(time).toISOString(), name);
    assertEquals(change.added.discovered, new Date(now).toISOString(), name);
    assertEquals(change.scheduled.map((u) => u.version), versions, name);
    assertEquals(change.cancelled.map((u) => u.version), cancelled, name);
  }
});

Deno.test("referenceRelease() is the last pending update of the program, else the running one", () => {
  const running = { version: "v1.0.0", goVersion: "go1.23.2" };
  const a = entry("2024-10-08T09:00:00Z", "v1.0.1");
  const b = entry("2024-10-09T09:00:00Z", "v1.0.2");
  const self = entry("2024-10-10T09:00:00Z", "v0.9.0", "self");
  // Nothing pending.
  assertEquals(referenceRelease([], "svc", running), running);
  // The latest of several, whatever the order; self entries do not count.
  assertEquals(referenceRelease([b, self, a], "svc", running), {
    version: "v1.0.2",
    goVersion: "go1.23.3",
    pending: b,
  });
  // Only another program's entry pending.
  assertEquals(referenceRelease([self], "svc", running), running);
});

Deno.test("dueTime() adds backoff counted from the last failed scheduled attempt", () => {
  const update = entry("2024-10-08T09:00:00Z", "v1.0.1");
  type Row = [string, Partial<State>, string];
  const rows: Row[] = [
    // No backoff: the update's time.
    ["no failures", {}, "2024-10-08T09:00:00Z"],
    // Backoff counts from the update's time when no failure is recorded.
    ["backoff 2, no history", { backoff: 2 }, "2024-10-08T11:00:00Z"],
    // ... and from the failure when it came later.
    [
      "after a late failure",
      { backoff: 1, history: [failure("2024-10-08T15:30:00Z")] },
      "2024-10-08T16:30:00Z",
    ],
    // A failure before the update's time does not move it back.
    [
      "older failure",
      { backoff: 1, history: [failure("2024-10-01T00:00:00Z")] },
      "2024-10-08T10:00:00Z",
    ],
    // Manual failures are not scheduled attempts.
    [
      "manual failure",
      { backoff: 1, history: [failure("2024-10-08T15:30:00Z", true)] },
      "2024-10-08T10:00:00Z",
    ],
  ];
  for (const [name, fields, want] of rows) {
    const state = { ...emptyState(), ...fields };
    assertEquals(
      new Date(dueTime(state, update)).toISOString(),
      new Date(want).toISOString(),
      name,
    );
  }
});

Deno.test("earliestStart() never returns a time outside the schedule, even when overdue", () => {
  const update = entry("2024-10-05T09:00:00Z", "v1.0.1"); // a Saturday, long past
  const now = Date.parse("2024-10-07T20:00:00+02:00"); // Monday evening, outside 9-17
  assertEquals(
    new Date(earliestStart(emptyState(), update, { now, schedule: WORKDAYS })).toISOString(),
    new Date("2024-10-08T09:00:00+02:00").toISOString(),
  );
  // Without a schedule an overdue update starts now.
  assertEquals(earliestStart(emptyState(), update, { now, schedule: ANY }), now);
});

Deno.test("nextUpdate() arms the timer for the earliest update, with jitter, unless paused", () => {
  const first = entry("2024-10-08T09:00:00+02:00", "v1.0.1");
  const second = entry("2024-10-09T09:00:00+02:00", "v0.5.1", "self");
  const now = Date.parse("2024-10-07T22:00:00+02:00");
  const options = { now, schedule: WORKDAYS, jitter: H, random: () => 0.5 };
  // Idle.
  assertEquals(nextUpdate(emptyState(), options), { kind: "idle" });
  // Paused: no timer, but the update is reported.
  assertEquals(
    nextUpdate(
      { ...emptyState(), scheduled: [second, first], pauseReason: "manually paused" },
      options,
    ),
    { kind: "paused", reason: "manually paused", update: first },
  );
  // Scheduled: the earliest entry, even when listed second; 30 minutes of jitter.
  const next = nextUpdate({ ...emptyState(), scheduled: [second, first] }, options);
  assertEquals(next, {
    kind: "scheduled",
    update: first,
    earliest: Date.parse("2024-10-08T09:00:00+02:00"),
    at: Date.parse("2024-10-08T09:30:00+02:00"),
    wait: 11.5 * H,
    backoff: 0,
    jitter: H / 2,
  });
  // Jitter past the window's end continues in the next window, never outside it.
  const late = { ...first, time: new Date("2024-10-08T16:45:00+02:00").toISOString() };
  const spilled = nextUpdate({ ...emptyState(), scheduled: [late] }, options);
  assert(spilled.kind === "scheduled");
  assertEquals(
    new Date(spilled.at).toISOString(),
    new Date("2024-10-09T09:15:00+02:00").toISOString(),
  );
  // Backoff of 4h after three failures moves 09:00 to 13:00.
  const backedOff = nextUpdate({ ...emptyState(), scheduled: [first], backoff: 3 }, {
    ...options,
    jitter: 0,
  });
  assert(backedOff.kind === "scheduled");
  assertEquals(backedOff.at, Date.parse("2024-10-08T13:00:00+02:00"));
});

Deno.test("onTimer() installs only when due, allowed and not paused", () => {
  const update = entry("2024-10-08T09:00:00+02:00", "v1.0.1");
  const state = { ...emptyState(), scheduled: [update] };
  const at = (t: string) => Date.parse(t);
  type Row = [string, Partial<State>, number, boolean, TimerAction];
  const rows: Row[] = [
    // Due and inside the window.
    ["due", {}, at("2024-10-08T09:10:00+02:00"), false, { action: "install", update }],
    // Paused after the timer was armed: the original installed anyway (docs/behaviour.md section 7.5).
    ["paused", { pauseReason: "rolled back v1.0.1" }, at("2024-10-08T09:10:00+02:00"), false, {
      action: "none",
      reason: "updates are paused: rolled back v1.0.1",
    }],
    // Busy with another update.
    ["busy", {}, at("2024-10-08T09:10:00+02:00"), true, {
      action: "none",
      reason: "an update is in progress",
    }],
    // Fired early (clock change, or the schedule changed).
    ["early", {}, at("2024-10-08T08:59:00+02:00"), false, {
      action: "reschedule",
      reason: "the update is not due yet",
    }],
    // Backoff not over yet.
    ["backoff", { backoff: 2 }, at("2024-10-08T10:59:00+02:00"), false, {
      action: "reschedule",
      reason: "the update is not due yet",
    }],
    // Fired late, after the window closed.
    ["outside window", {}, at("2024-10-08T17:00:00+02:00"), false, {
      action: "reschedule",
      reason: "the schedule does not allow updates now",
    }],
    // Nothing scheduled.
    ["empty", { scheduled: [] }, at("2024-10-08T09:10:00+02:00"), false, {
      action: "none",
      reason: "no update scheduled",
    }],
  ];
  for (const [name, fields, now, busy, want] of rows) {
    assertEquals(onTimer({ ...state, ...fields }, { now, schedule: WORKDAYS, busy }), want, name);
  }
});

Deno.test("formatWait() shows days, hours and minutes", () => {
  const rows: Array<[number, string]> = [
    [0, "now"], // due
    [999, "now"], // below a second
    [61_000, "1m 1s"],
    [2 * H + 5 * 60_000, "2h 5m"],
    [74 * H + 60_000, "3d 2h 1m"],
  ];
  for (const [ms, want] of rows) assertEquals(formatWait(ms), want);
});
