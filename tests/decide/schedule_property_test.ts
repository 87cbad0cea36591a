/**
 * Property tests for schedules: many random schedules and times, from a seeded
 * generator (the seed is in every failure message), checked against an oracle that
 * reads wall-clock time with its own Intl.DateTimeFormat.
 */

import { assert, assertEquals } from "../_assert.ts";
import {
  addAllowedTime,
  allowedUntil,
  DAYS,
  nextAllowedTime,
  parseSchedule,
  type Period,
  zoneOffset,
} from "../../src/decide/schedule.ts";
import { nextUpdate, scheduleUpdate } from "../../src/decide/timing.ts";
import { emptyState } from "../../src/state/state.ts";

const ZONES = [
  "Europe/Amsterdam", // DST at 02:00/03:00
  "America/New_York", // DST at 02:00, other dates
  "America/Santiago", // DST at midnight: some days have no 00:00
  "Australia/Lord_Howe", // a 30-minute DST shift
  "Pacific/Chatham", // +12:45/+13:45
  "America/St_Johns", // -03:30/-02:30
  "Asia/Kolkata", // no DST, half-hour offset
  "UTC",
];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** mulberry32: a small seeded generator of numbers in [0, 1). */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function int(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

/** A random schedule entry as text, with the period it must parse to. */
function randomEntry(random: () => number): { text: string; period: Period } {
  let daysText = "";
  let days: Period["days"] = [...DAYS];
  if (random() < 0.7) {
    const items: string[] = [];
    days = [];
    for (let i = 0, n = 1 + int(random, 2); i < n; i++) {
      const a = int(random, 7);
      if (random() < 0.5) {
        items.push(DAYS[a] ?? "su");
        days.push(DAYS[a] ?? "su");
      } else {
        const b = int(random, 7);
        items.push(`${DAYS[a]}-${DAYS[b]}`);
        for (let d = a;; d = (d + 1) % 7) {
          days.push(DAYS[d] ?? "su");
          if (d === b) break;
        }
      }
    }
    daysText = items.join(",");
  }
  let ranges: Period["ranges"] = [{ start: 0, end: 1440 }];
  let timesText = "";
  if (daysText === "" || random() < 0.8) {
    ranges = [];
    const items: string[] = [];
    for (let i = 0, n = 1 + int(random, 3); i < n; i++) {
      const minutes = random() < 0.5;
      const start = minutes ? int(random, 1439) : int(random, 24) * 60;
      const maxLen = 1440 - start;
      const len = minutes
        ? 1 + int(random, Math.min(maxLen, 300))
        : 60 * (1 + int(random, maxLen / 60));
      const end = start + len;
      const fmt = (m: number) =>
        minutes
          ? `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`
          : `${m / 60}`;
      items.push(`${fmt(start)}-${fmt(end)}`);
      ranges.push({ start, end });
    }
    timesText = items.join(",");
  }
  const text = [daysText, timesText].filter((s) => s !== "").join(" ");
  return { text, period: { days, ranges } };
}

const ORACLES = new Map<string, Intl.DateTimeFormat>();
const SHORT_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** Whether the wall-clock time at ms in zone falls inside a period: read independently. */
function oracleAllowed(periods: Period[], zone: string, ms: number): boolean {
  let fmt = ORACLES.get(zone);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      weekday: "short",
      hour: "numeric",
      minute: "numeric",
      hourCycle: "h23",
    });
    ORACLES.set(zone, fmt);
  }
  const parts = fmt.formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const day = DAYS[SHORT_DAYS.indexOf(get("weekday"))];
  const minute = Number(get("hour")) * 60 + Number(get("minute"));
  assert(day !== undefined, `weekday of ${parts.map((p) => p.value).join("")}`);
  return periods.some((p) =>
    p.days.includes(day) && p.ranges.some((r) => r.start <= minute && minute < r.end)
  );
}

/** Clock changes of a zone in [from, to), found by a minute scan (independent of the module). */
function transitions(zone: string, from: number, to: number): number[] {
  const fmt = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" });
  const off = (ms: number) => fmt.formatToParts(ms).find((p) => p.type === "timeZoneName")?.value;
  const found: number[] = [];
  for (let t = from; t < to; t += HOUR) {
    if (off(t) !== off(t + HOUR)) {
      let m = t;
      while (off(m) === off(t)) m += MINUTE;
      found.push(m);
    }
  }
  return found;
}

const YEAR_START = Date.parse("2024-01-01T00:00:00Z");
const YEAR_END = Date.parse("2026-01-01T00:00:00Z");
const TRANSITIONS = new Map(ZONES.map((z) => [z, transitions(z, YEAR_START, YEAR_END)]));

/** A random time: half of them within 3 days of a clock change of the zone. */
function randomTime(random: () => number, zone: string): number {
  const changes = TRANSITIONS.get(zone) ?? [];
  const change = changes[int(random, changes.length)];
  if (change !== undefined && random() < 0.5) {
    return change - 3 * DAY + int(random, 6 * DAY) + (random() < 0.3 ? 0 : int(random, 1000));
  }
  return YEAR_START + int(random, YEAR_END - YEAR_START - 30 * DAY);
}

Deno.test("nextAllowedTime() holds its properties for random schedules, zones and times", () => {
  const SEED = 20241027;
  const random = generator(SEED);
  let cases = 0;
  let waited = 0;
  for (let i = 0; i < 400; i++) {
    const zone = ZONES[int(random, ZONES.length)] ?? "UTC";
    const entries = Array.from({ length: 1 + int(random, 3) }, () => randomEntry(random));
    const schedule = parseSchedule(entries.map((e) => e.text), { timeZone: zone });
    const what = `seed ${SEED} case ${i}: ${zone} ${JSON.stringify(entries.map((e) => e.text))}`;
    // The parser reads what the generator wrote.
    assertEquals(schedule.periods, entries.map((e) => e.period), what);
    for (let j = 0; j < 4; j++) {
      cases++;
      const now = randomTime(random, zone);
      const delay = random() < 0.3 ? 0 : int(random, 4 * DAY);
      const t = now + delay;
      const at = `${what} now ${new Date(now).toISOString()} delay ${delay}`;
      const r = nextAllowedTime(schedule, now + delay);
      // Never before now + delay.
      assert(r >= t, `${at}: ${new Date(r).toISOString()} is before now + delay`);
      // Always inside an allowed window, on the zone's wall clock.
      assert(
        oracleAllowed(schedule.periods, zone, r),
        `${at}: ${new Date(r).toISOString()} not allowed`,
      );
      // Earliest: nothing allowed between t and r (every 7 minutes, and just before r).
      if (r > t) {
        waited++;
        assert(!oracleAllowed(schedule.periods, zone, r - 1), `${at}: allowed just before result`);
        for (let s = t; s < r; s += 7 * MINUTE) {
          assert(
            !oracleAllowed(schedule.periods, zone, s),
            `${at}: ${new Date(s).toISOString()} allowed earlier`,
          );
        }
        // Stable across DST: unless a clock change opens the window, it opens at a
        // configured wall-clock start, never an hour off.
        if (zoneOffset(r - 1000, zone) === zoneOffset(r, zone)) {
          const local = r + zoneOffset(r, zone);
          const minute = Math.floor((((local % DAY) + DAY) % DAY) / MINUTE);
          assertEquals(local % MINUTE, 0, at);
          assert(
            schedule.periods.some((p) => p.ranges.some((x) => x.start === minute)),
            `${at}: opens at minute ${minute}, not at a configured start`,
          );
        }
      }
      // Idempotent, and monotonic in t.
      assertEquals(nextAllowedTime(schedule, r), r, at);
      const later = t + int(random, 2 * DAY);
      assert(nextAllowedTime(schedule, later) >= r, `${at}: not monotonic`);
      // The stretch that starts at r is allowed up to its end, and not at the end.
      const end = allowedUntil(schedule, r);
      assert(end > r, at);
      if (end !== Infinity) {
        assert(oracleAllowed(schedule.periods, zone, end - 1), `${at}: stretch end`);
        assert(!oracleAllowed(schedule.periods, zone, end), `${at}: after stretch end`);
      }
      // Jitter in allowed time stays inside the schedule.
      const jittered = addAllowedTime(schedule, r, int(random, 2 * HOUR));
      assert(jittered >= r && oracleAllowed(schedule.periods, zone, jittered), `${at}: jitter`);
    }
  }
  // The generator must exercise both branches for the test to mean something.
  assert(waited > cases / 4 && waited < cases, `${waited} of ${cases} cases waited`);
});

Deno.test("scheduleUpdate() and nextUpdate() never start before now + delay or outside the schedule", () => {
  const SEED = 72;
  const random = generator(SEED);
  for (let i = 0; i < 200; i++) {
    const zone = ZONES[int(random, ZONES.length)] ?? "UTC";
    const texts = Array.from({ length: 1 + int(random, 2) }, () => randomEntry(random).text);
    const schedule = parseSchedule(texts, { timeZone: zone });
    const now = randomTime(random, zone);
    const delay = int(random, 4) * DAY;
    const what = `seed ${SEED} case ${i}: ${zone} ${JSON.stringify(texts)} now ${
      new Date(now).toISOString()
    }`;
    const { added, scheduled } = scheduleUpdate([], {
      which: "svc",
      modPath: "example.com/m",
      pkgDir: "/",
      version: "v1.0.1",
      goVersion: "go1.23.3",
    }, { now, delay, schedule, all: false });
    const time = Date.parse(added.time);
    assert(time >= now + delay, `${what}: scheduled before now + delay`);
    assert(oracleAllowed(schedule.periods, zone, time), `${what}: scheduled outside the schedule`);
    // The timer, checked at a random later moment with random backoff and jitter.
    const later = now + int(random, 10 * DAY);
    const state = { ...emptyState(), scheduled, backoff: int(random, 5) };
    const jitter = int(random, 3) * HOUR;
    const next = nextUpdate(state, { now: later, schedule, jitter, random });
    assert(next.kind === "scheduled", what);
    assert(next.earliest >= Math.max(later, time), `${what}: timer before due`);
    assert(next.at >= next.earliest && next.at - next.earliest <= 14 * DAY, what);
    assert(oracleAllowed(schedule.periods, zone, next.at), `${what}: timer outside the schedule`);
    assert(oracleAllowed(schedule.periods, zone, next.earliest), `${what}: earliest outside`);
  }
});
