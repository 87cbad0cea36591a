/**
 * Update schedules (`update.schedule`): when updates may start, as weekdays and
 * time-of-day windows in a time zone, and the first allowed time at or after a
 * given time.
 *
 * Syntax of one entry, as the original's (docs/behaviour.md section 7.1), plus minutes:
 * `[days] [times]`, separated by one space. Days are comma-separated two-letter
 * names (`su mo tu we th fr sa`) or inclusive ranges that may wrap around the week
 * (`sa-mo` is sa, su, mo). Times are comma-separated ranges `9-17` (09:00 up to,
 * not including, 17:00) or with minutes `09:30-17:15`; the end may be `24`. No days:
 * every day; no times: the whole day. Windows cannot cross midnight: write
 * `mo 22-24` and `tu 0-6`.
 *
 * Time zones and daylight saving time. Windows are wall-clock times in the zone
 * (`update.timezone`, an IANA name; "" is the local zone). The rule is one
 * sentence: an instant is allowed when its wall-clock time in the zone falls
 * inside a window. So an update never starts at a wall-clock time outside the
 * schedule, and what happens around clock changes follows:
 * - A wall-clock time that does not exist (Europe/Amsterdam, 2024-03-31, the
 *   clock jumps from 02:00 to 03:00): a window `2-3` does not occur that day, and
 *   the next allowed time is the next occurrence (the next day for a daily
 *   window, a week later for `su 2-3`). A window that only partly falls in the
 *   gap is shorter: `su 2-4` allows 03:00-04:00 that day. Updates are not urgent,
 *   but a promise that nothing changes outside the window is.
 * - A wall-clock time that exists twice (2024-10-27, the clock goes back from
 *   03:00 to 02:00): both occurrences are allowed, so `2-3` is two hours long that
 *   day; the earliest allowed instant is chosen.
 *
 * Offsets come from `Intl.DateTimeFormat` (the runtime's tz database). Clock
 * changes are found by sampling the offset every 6 hours and bisecting; zones
 * whose offset changes twice within 6 hours (none in current tz rules) would be
 * seen as unchanged.
 *
 * Pure functions, no I/O: every function takes the time as a parameter.
 *
 * @module
 */

/** Day names, in the order of JavaScript's getUTCDay (Sunday is 0). */
export const DAYS = ["su", "mo", "tu", "we", "th", "fr", "sa"] as const;
/** A two-letter day name. */
export type Day = typeof DAYS[number];

/** A time-of-day window in minutes since midnight: start inclusive, end exclusive. */
export interface TimeRange {
  /** 0 to 1439. */
  start: number;
  /** start+1 to 1440. */
  end: number;
}

/** One schedule entry: on each of days, during each of ranges. */
export interface Period {
  /** Days in the order written, ranges expanded (`sa-mo,we` is sa, su, mo, we). */
  days: Day[];
  /** Time windows in the order written; the whole day when the entry has none. */
  ranges: TimeRange[];
}

/** A parsed schedule: periods in a time zone. Without periods every time is allowed. */
export interface Schedule {
  periods: Period[];
  /** IANA time zone name; "" is the local zone of the process. */
  timeZone: string;
}

/** Options for parseSchedule. */
export interface ScheduleOptions {
  /**
   * IANA time zone of the windows; "" for local time.
   * @default ""
   */
  timeZone?: string;
}

/** A wall-clock time in a zone. */
export interface WallClock {
  year: number;
  /** 1 to 12. */
  month: number;
  /** 1 to 31. */
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: Day;
  /** Offset from UTC in milliseconds (CEST is 7200000). */
  offset: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const WEEK_MINUTES = 7 * 1440;
/** Largest interval in which at most one clock change is assumed. */
const SAMPLE_STEP = 6 * HOUR;
/** Safety bound for loops over windows; a valid schedule needs far fewer. */
const MAX_STEPS = 100_000;

/**
 * Parses one schedule entry, e.g. "mo-fr 9-17", "sa-mo,we 9-12", "18-21", "tu-th,sa"
 * or "mo-fr 09:30-17:00".
 * @throws SyntaxError naming the entry and the problem
 */
export function parsePeriod(entry: string): Period {
  const result = periodOrProblem(entry);
  if (typeof result === "string") {
    throw new SyntaxError(`Cannot parse schedule entry "${entry}": ${result}`);
  }
  return result;
}

/**
 * Checks one schedule entry; returns what is wrong (e.g. `unknown day "xx"`), or
 * undefined when it parses. Used by the configuration's validation.
 */
export function checkScheduleEntry(entry: string): string | undefined {
  const result = periodOrProblem(entry);
  return typeof result === "string" ? result : undefined;
}

/**
 * Parses the entries of `update.schedule` in a time zone.
 * @throws SyntaxError for a bad entry, RangeError for an unknown time zone
 */
export function parseSchedule(
  entries: readonly string[],
  options: ScheduleOptions = {},
): Schedule {
  const timeZone = options.timeZone ?? "";
  if (timeZone !== "") {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone });
    } catch (err) {
      throw new RangeError(
        `Cannot use time zone "${timeZone}": unknown (use an IANA name like "Europe/Amsterdam")`,
        { cause: err },
      );
    }
  }
  const periods = entries.map((entry, i) => {
    const result = periodOrProblem(entry);
    if (typeof result === "string") {
      throw new SyntaxError(`Cannot parse schedule item ${i + 1} "${entry}": ${result}`);
    }
    return result;
  });
  return { periods, timeZone };
}

/** Reports whether an update may start at t: its wall-clock time is inside a window. */
export function isAllowedTime(schedule: Schedule, t: Date | number): boolean {
  const ms = toMs(t);
  if (schedule.periods.length === 0) return true;
  return maskOf(schedule).on[minuteOfWeek(ms + zoneOffset(ms, schedule.timeZone))] === 1;
}

/**
 * The first allowed time at or after t (docs/behaviour.md section 7.2): t itself when it is inside a window,
 * else the start of the next window. An empty schedule allows any time.
 * @returns milliseconds since the epoch
 */
export function nextAllowedTime(schedule: Schedule, t: Date | number): number {
  let cur = toMs(t);
  if (schedule.periods.length === 0) return cur;
  const mask = maskOf(schedule);
  for (let i = 0; i < MAX_STEPS; i++) {
    // Within a stretch of constant offset, local time is instant + offset: find the
    // first allowed local time, and check that no clock change comes before it.
    const offset = zoneOffset(cur, schedule.timeZone);
    const local = cur + offset;
    const candidate = firstLocal(mask.on, mask.toOn, local) - offset;
    if (candidate === Infinity) {
      throw new RangeError(`Cannot find an allowed time: the schedule has no time in any window`);
    }
    const change = firstOffsetChange(schedule.timeZone, cur, candidate, offset);
    if (change === undefined) return candidate;
    cur = change;
  }
  throw new RangeError(`Cannot find an allowed time in schedule ${describeSchedule(schedule)}`);
}

/**
 * The end of the allowed stretch that contains t: the first instant after t that is
 * not allowed (Infinity for a schedule that allows any time). t must be allowed.
 * @returns milliseconds since the epoch
 */
export function allowedUntil(schedule: Schedule, t: Date | number): number {
  let cur = toMs(t);
  if (schedule.periods.length === 0) return Infinity;
  const mask = maskOf(schedule);
  for (let i = 0; i < MAX_STEPS; i++) {
    const offset = zoneOffset(cur, schedule.timeZone);
    const local = cur + offset;
    if (mask.on[minuteOfWeek(local)] !== 1) return cur;
    const end = firstLocal(mask.off, mask.toOff, local);
    if (end === Infinity) return Infinity;
    const change = firstOffsetChange(schedule.timeZone, cur, end - offset, offset);
    if (change === undefined) return end - offset;
    cur = change;
  }
  throw new RangeError(`Cannot find the end of an allowed time in ${describeSchedule(schedule)}`);
}

/**
 * Moves ms of allowed time forward from t: the first allowed time at or after t,
 * plus ms, counting only time inside windows (time outside them is skipped). Used
 * for jitter, so a spread-out start stays inside the schedule.
 * @returns milliseconds since the epoch
 */
export function addAllowedTime(schedule: Schedule, t: Date | number, ms: number): number {
  let cur = nextAllowedTime(schedule, t);
  let rest = ms;
  for (let i = 0; i < MAX_STEPS; i++) {
    const end = allowedUntil(schedule, cur);
    if (cur + rest < end) return cur + rest;
    rest -= end - cur;
    cur = nextAllowedTime(schedule, end);
  }
  throw new RangeError(`Cannot add ${ms}ms of allowed time in ${describeSchedule(schedule)}`);
}

/** The schedule as text, entries separated by "; " ("any time" when empty). */
export function describeSchedule(schedule: Schedule): string {
  if (schedule.periods.length === 0) return "any time";
  const text = schedule.periods.map(formatPeriod).join("; ");
  return schedule.timeZone === "" ? text : `${text} (${schedule.timeZone})`;
}

/** One period in the entry syntax, hours without minutes where possible: "mo,tu 9-17". */
export function formatPeriod(period: Period): string {
  const days = formatDays(period.days);
  const whole = period.ranges.length === 1 && period.ranges[0]?.start === 0 &&
    period.ranges[0]?.end === 1440;
  if (whole) return days;
  const ranges = period.ranges.map((r) => `${formatMinute(r.start)}-${formatMinute(r.end)}`)
    .join(",");
  return days === "su-sa" ? ranges : `${days} ${ranges}`;
}

/** Days with runs of three or more consecutive days as ranges: "sa-mo,we". */
function formatDays(days: readonly Day[]): string {
  const items: string[] = [];
  let i = 0;
  while (i < days.length) {
    let j = i;
    while (
      j + 1 < days.length &&
      DAYS.indexOf(days[j + 1] ?? "su") === (DAYS.indexOf(days[j] ?? "su") + 1) % 7 &&
      j - i < 6
    ) j++;
    if (j - i >= 2) items.push(`${days[i]}-${days[j]}`);
    else items.push(...days.slice(i, j + 1));
    i = j + 1;
  }
  return items.join(",");
}

/** Offset of the zone from UTC at t, in milliseconds; timeZone "" is local time. */
export function zoneOffset(t: Date | number, timeZone: string): number {
  const ms = toMs(t);
  const p = fields(timeZone, ms);
  const date = new Date(0);
  date.setUTCFullYear(p.year, p.month - 1, p.day); // Date.UTC maps years 0-99 to 1900-1999
  date.setUTCHours(p.hour, p.minute, p.second, 0);
  const wall = date.getTime();
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The wall-clock time at t in the zone ("" is local time). */
export function wallClock(t: Date | number, timeZone: string): WallClock {
  const ms = toMs(t);
  const offset = zoneOffset(ms, timeZone);
  const local = new Date(Math.floor(ms / 1000) * 1000 + offset);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    weekday: DAYS[local.getUTCDay()] ?? "su",
    offset,
  };
}

/** t as wall-clock time in the zone: "Mon 2024-10-07 23:00:00 +02:00". */
export function formatZoned(t: Date | number, timeZone: string): string {
  const w = wallClock(t, timeZone);
  const sign = w.offset < 0 ? "-" : "+";
  const off = Math.round(Math.abs(w.offset) / MINUTE);
  const weekday = WEEKDAY_NAMES[DAYS.indexOf(w.weekday)];
  return `${weekday} ${w.year}-${pad(w.month)}-${pad(w.day)} ` +
    `${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)} ` +
    `${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
}

const WEEKDAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

function periodOrProblem(entry: string): Period | string {
  const text = entry.trim();
  if (text === "") return "empty schedule entry";
  const tokens = text.split(" ");
  if (tokens.length > 2 || tokens.includes("")) {
    return 'expected "[days] [times]" separated by one space, like "mo-fr 9-17"';
  }
  const [first = "", second] = tokens;
  let days: Day[] = [...DAYS];
  let times: string | undefined = first;
  if (!/^[0-9]/.test(first)) {
    const parsed = parseDays(first);
    if (typeof parsed === "string") return parsed;
    days = parsed;
    times = second;
  } else if (second !== undefined) {
    return `unexpected "${second}" after the times; days come first, like "mo-fr 9-17"`;
  }
  if (times === undefined) return { days, ranges: [{ start: 0, end: 1440 }] };
  const ranges = parseRanges(times);
  return typeof ranges === "string" ? ranges : { days, ranges };
}

function parseDays(text: string): Day[] | string {
  const days: Day[] = [];
  for (const item of text.split(",")) {
    const ends = item.split("-");
    if (ends.length > 2) return `bad day range "${item}" (expected a range like "mo-fr")`;
    const indexes: number[] = [];
    for (const name of ends) {
      const i = DAYS.indexOf(name as Day);
      if (i === -1) return `unknown day "${name}"`;
      indexes.push(i);
    }
    const [from = 0, to = from] = indexes;
    for (let i = from;; i = (i + 1) % 7) {
      days.push(DAYS[i] ?? "su");
      if (i === to) break;
    }
  }
  return days;
}

function parseRanges(text: string): TimeRange[] | string {
  const ranges: TimeRange[] = [];
  for (const item of text.split(",")) {
    const ends = item.split("-");
    if (ends.length !== 2) {
      return `bad time range "${item}" (expected a range like "9-17" or "09:30-17:00")`;
    }
    const [a = "", b = ""] = ends;
    const start = parseMinute(a);
    const end = parseMinute(b);
    if (typeof start === "string") return start;
    if (typeof end === "string") return end;
    if (start >= 1440) return `bad start time "${a}" (at most 23:59)`;
    if (start >= end) {
      return `start ${formatMinute(start)} is not before end ${
        formatMinute(end)
      } in "${item}" (a window cannot cross midnight: split it, like "mo 22-24" and "tu 0-6")`;
    }
    ranges.push({ start, end });
  }
  return ranges;
}

/** Minutes since midnight of "9", "09", "9:30" or "24"; an error text when invalid. */
function parseMinute(text: string): number | string {
  const m = /^([0-9]{1,2})(?::([0-9]{2}))?$/.exec(text);
  if (m === null) return `bad time "${text}" (expected an hour like "9" or "09:30")`;
  const hour = Number(m[1]);
  const minute = m[2] === undefined ? 0 : Number(m[2]);
  if (minute > 59) return `bad time "${text}" (minutes 00 to 59)`;
  if (hour > 24 || (hour === 24 && minute !== 0)) {
    return `bad time "${text}" (hours 0 to 24)`;
  }
  return hour * 60 + minute;
}

function formatMinute(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? String(h) : `${pad(h)}:${pad(m)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function toMs(t: Date | number): number {
  return typeof t === "number" ? t : t.getTime();
}

/**
 * The schedule per minute of the week (Sunday 00:00 is 0), and for every minute the
 * distance in minutes to the next allowed (toOn) and not-allowed (toOff) minute.
 */
interface Mask {
  on: Uint8Array;
  off: Uint8Array;
  toOn: Float64Array;
  toOff: Float64Array;
}

const MASKS = new WeakMap<Schedule, Mask>();

function maskOf(schedule: Schedule): Mask {
  const cached = MASKS.get(schedule);
  if (cached !== undefined) return cached;
  const on = new Uint8Array(WEEK_MINUTES);
  for (const period of schedule.periods) {
    for (const day of period.days) {
      const base = DAYS.indexOf(day) * 1440;
      for (const r of period.ranges) on.fill(1, base + r.start, base + r.end);
    }
  }
  const off = on.map((v) => 1 - v);
  const mask = { on, off, toOn: distances(on), toOff: distances(off) };
  MASKS.set(schedule, mask);
  return mask;
}

/** For each minute, minutes until the next minute (cyclically) where set is 1; Infinity if none. */
function distances(set: Uint8Array): Float64Array {
  const d = new Float64Array(WEEK_MINUTES).fill(Infinity);
  const first = set.indexOf(1);
  if (first === -1) return d;
  let next = first + WEEK_MINUTES;
  for (let i = WEEK_MINUTES - 1; i >= 0; i--) {
    if (set[i] === 1) next = i;
    d[i] = next - i;
  }
  return d;
}

/** Minute of the week of a local time (ms since the epoch of the wall clock, as if UTC). */
function minuteOfWeek(local: number): number {
  const minutes = Math.floor(local / MINUTE);
  // 1970-01-01 was a Thursday, day 4.
  return mod(minutes + 4 * 1440, WEEK_MINUTES);
}

/** The first local time >= local in a minute where set is 1 (Infinity if none). */
function firstLocal(set: Uint8Array, dist: Float64Array, local: number): number {
  const index = minuteOfWeek(local);
  if (set[index] === 1) return local;
  const d = dist[index] ?? Infinity;
  return d === Infinity ? Infinity : (Math.floor(local / MINUTE) + d) * MINUTE;
}

/**
 * The first instant in (from, to] whose offset differs from offset, or undefined.
 * Samples every SAMPLE_STEP and bisects to the second (offsets change on whole seconds).
 */
function firstOffsetChange(
  timeZone: string,
  from: number,
  to: number,
  offset: number,
): number | undefined {
  let a = from;
  while (a < to) {
    const b = Math.min(a + SAMPLE_STEP, to);
    if (zoneOffset(b, timeZone) !== offset) {
      let lo = Math.floor(a / 1000);
      let hi = Math.floor(b / 1000);
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (zoneOffset(mid * 1000, timeZone) === offset) lo = mid;
        else hi = mid;
      }
      return hi * 1000;
    }
    a = b;
  }
  return undefined;
}

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

function fields(timeZone: string, ms: number): Fields {
  let fmt = FORMATTERS.get(timeZone);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat("en-US", {
      ...(timeZone === "" ? {} : { timeZone }),
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    FORMATTERS.set(timeZone, fmt);
  }
  const f: Fields = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  let bc = false;
  for (const part of fmt.formatToParts(ms)) {
    switch (part.type) {
      case "era":
        bc = part.value.startsWith("B");
        break;
      case "year":
      case "month":
      case "day":
      case "hour":
      case "minute":
      case "second":
        f[part.type] = Number(part.value);
    }
  }
  if (bc) f.year = 1 - f.year;
  return f;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
