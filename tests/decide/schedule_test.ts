import { assert, assertEquals, assertThrows } from "../_assert.ts";
import {
  addAllowedTime,
  allowedUntil,
  checkScheduleEntry,
  describeSchedule,
  formatZoned,
  isAllowedTime,
  nextAllowedTime,
  parsePeriod,
  parseSchedule,
  type Period,
  wallClock,
  zoneOffset,
} from "../../src/decide/schedule.ts";

const AMS = "Europe/Amsterdam";

/** A period as the original's tests write it: days and the whole hours it allows. */
function hoursOf(p: Period): { days: string[]; hours: number[] } {
  const hours: number[] = [];
  for (let h = 0; h < 24; h++) {
    if (p.ranges.some((r) => r.start <= h * 60 && (h + 1) * 60 <= r.end)) hours.push(h);
  }
  return { days: p.days, hours };
}

const ALL_DAYS = ["su", "mo", "tu", "we", "th", "fr", "sa"];
const ALL_HOURS = Array.from({ length: 24 }, (_, h) => h);

Deno.test("parseSchedule() parses the original's test table", () => {
  type Row = [string, Array<{ days: string[]; hours: number[] }> | "error"];
  const rows: Row[] = [
    // Empty entry.
    ["", "error"],
    // One day, one hour.
    ["mo 1-2", [{ days: ["mo"], hours: [1] }]],
    // Wrapping day range plus a day; several hour ranges.
    ["sa-mo,we 9-12; fr 7-8,12-13,18-20", [
      { days: ["sa", "su", "mo", "we"], hours: [9, 10, 11] },
      { days: ["fr"], hours: [7, 12, 18, 19] },
    ]],
    // A day without hours: the whole day.
    ["mo", [{ days: ["mo"], hours: ALL_HOURS }]],
    // Hours without days: every day.
    ["9-12", [{ days: ALL_DAYS, hours: [9, 10, 11] }]],
  ];
  for (const [input, want] of rows) {
    if (want === "error") {
      assertThrows(() => parseSchedule(input.split("; ")), SyntaxError, undefined, input);
      continue;
    }
    const schedule = parseSchedule(input.split("; "));
    assertEquals(schedule.periods.map(hoursOf), want, input);
  }
});

Deno.test("parsePeriod() reads minutes, the end of day and the issue's examples", () => {
  type Row = [string, Period];
  const rows: Row[] = [
    // Minute precision.
    ["mo-fr 09:30-17:00", {
      days: ["mo", "tu", "we", "th", "fr"],
      ranges: [{ start: 570, end: 1020 }],
    }],
    // Mixed forms and end of day.
    ["sa 9:05-12,22-24:00", {
      days: ["sa"],
      ranges: [{ start: 545, end: 720 }, { start: 1320, end: 1440 }],
    }],
    // Only days, with a wrapping range.
    ["tu-th,sa", { days: ["tu", "we", "th", "sa"], ranges: [{ start: 0, end: 1440 }] }],
    // Only hours.
    ["18-21", { days: ALL_DAYS as Period["days"], ranges: [{ start: 1080, end: 1260 }] }],
    // Same start and end day: one day.
    ["fr-fr 0-1", { days: ["fr"], ranges: [{ start: 0, end: 60 }] }],
    // Surrounding whitespace is trimmed.
    ["  su 0-24 ", { days: ["su"], ranges: [{ start: 0, end: 1440 }] }],
  ];
  for (const [input, want] of rows) assertEquals(parsePeriod(input), want, input);
});

Deno.test("checkScheduleEntry() names what is wrong", () => {
  type Row = [string, string | undefined];
  const rows: Row[] = [
    // Valid.
    ["mo-fr 9-17", undefined],
    // Empty.
    ["  ", "empty schedule entry"],
    // Unknown day.
    ["xx 9-17", 'unknown day "xx"'],
    // Upper case is not a day.
    ["Mo 9-17", 'unknown day "Mo"'],
    // Two dashes in a day range.
    ["mo-tu-we", 'bad day range "mo-tu-we" (expected a range like "mo-fr")'],
    // Double space.
    ["mo  9-17", 'expected "[days] [times]" separated by one space, like "mo-fr 9-17"'],
    // Three tokens.
    ["mo 9-12 13-14", 'expected "[days] [times]" separated by one space, like "mo-fr 9-17"'],
    // Days after hours (the original silently ignored them).
    ["9-17 mo", 'unexpected "mo" after the times; days come first, like "mo-fr 9-17"'],
    // A single hour.
    ["mo 9", 'bad time range "9" (expected a range like "9-17" or "09:30-17:00")'],
    // Out of range.
    ["mo 9-25", 'bad time "25" (hours 0 to 24)'],
    ["mo 24-24", 'bad start time "24" (at most 23:59)'],
    ["mo 9:60-10", 'bad time "9:60" (minutes 00 to 59)'],
    ["mo 24:30-10", 'bad time "24:30" (hours 0 to 24)'],
    // Empty range.
    [
      "mo 9-9",
      'start 9 is not before end 9 in "9-9" (a window cannot cross midnight: split it, like "mo 22-24" and "tu 0-6")',
    ],
    // Across midnight.
    [
      "mo 22-6",
      'start 22 is not before end 6 in "22-6" (a window cannot cross midnight: split it, like "mo 22-24" and "tu 0-6")',
    ],
    // Not a number.
    ["mo 9-x", 'bad time "x" (expected an hour like "9" or "09:30")'],
    // An empty list item.
    ["mo,,tu", 'unknown day ""'],
  ];
  for (const [input, want] of rows) assertEquals(checkScheduleEntry(input), want, input);
});

Deno.test("parseSchedule() names the item and rejects unknown time zones", () => {
  assertThrows(
    () => parseSchedule(["mo 9-17", "xx 9-17"]),
    { name: "SyntaxError", message: 'Cannot parse schedule item 2 "xx 9-17": unknown day "xx"' },
  );
  assertThrows(() => parseSchedule([], { timeZone: "Mars/Olympus" }), RangeError);
  assertEquals(parseSchedule([], { timeZone: AMS }), { periods: [], timeZone: AMS });
});

Deno.test("nextAllowedTime() passes the original's table in Europe/Amsterdam", () => {
  const now = Date.parse("2024-10-07T22:39:30+02:00"); // Monday
  type Row = [string[], string];
  const rows: Row[] = [
    // Inside an allowed day: now.
    [["mo"], "Mon 2024-10-07 22:39:30 +02:00"],
    // Later the same day.
    [["mo 23-24"], "Mon 2024-10-07 23:00:00 +02:00"],
    // The hour has passed: a week later.
    [["mo 8-9"], "Mon 2024-10-14 08:00:00 +02:00"],
    // Every day: tomorrow.
    [["8-9"], "Tue 2024-10-08 08:00:00 +02:00"],
    // The earliest of several periods.
    [["we 10-12", "mo 23-24"], "Mon 2024-10-07 23:00:00 +02:00"],
  ];
  for (const [entries, want] of rows) {
    const schedule = parseSchedule(entries, { timeZone: AMS });
    assertEquals(formatZoned(nextAllowedTime(schedule, now), AMS), want, entries.join("; "));
  }
});

Deno.test("nextAllowedTime() works to the minute and at window edges", () => {
  type Row = [string[], string, string];
  const rows: Row[] = [
    // Empty schedule: every time is allowed.
    [[], "2024-10-07T22:39:30+02:00", "2024-10-07T22:39:30+02:00"],
    // Before a minute-precision window.
    [["mo-fr 09:30-17:00"], "2024-10-07T09:29:59.999+02:00", "2024-10-07T09:30:00+02:00"],
    // At its start.
    [["mo-fr 09:30-17:00"], "2024-10-07T09:30:00+02:00", "2024-10-07T09:30:00+02:00"],
    // The last millisecond inside.
    [["mo-fr 09:30-17:00"], "2024-10-07T16:59:59.999+02:00", "2024-10-07T16:59:59.999+02:00"],
    // The end is excluded: the next working day.
    [["mo-fr 09:30-17:00"], "2024-10-07T17:00:00+02:00", "2024-10-08T09:30:00+02:00"],
    // Friday evening: Monday.
    [["mo-fr 09:30-17:00"], "2024-10-11T18:00:00+02:00", "2024-10-14T09:30:00+02:00"],
    // Windows that join across midnight.
    [["mo 22-24", "tu 0-2"], "2024-10-08T00:30:00+02:00", "2024-10-08T00:30:00+02:00"],
    // Wrapping day range, Sunday.
    [["sa-mo 3-4"], "2024-10-13T02:00:00+02:00", "2024-10-13T03:00:00+02:00"],
  ];
  for (const [entries, now, want] of rows) {
    const schedule = parseSchedule(entries, { timeZone: AMS });
    assertEquals(
      new Date(nextAllowedTime(schedule, new Date(now))).toISOString(),
      new Date(want).toISOString(),
      `${entries.join("; ")} at ${now}`,
    );
  }
});

Deno.test("nextAllowedTime() skips a window that does not exist on spring-forward day", () => {
  // Europe/Amsterdam, Sunday 2024-03-31: 02:00 CET becomes 03:00 CEST (01:00 UTC);
  // wall-clock times from 02:00 to 02:59 do not exist.
  type Row = [string[], string, string, string];
  const rows: Row[] = [
    // A daily 2-3 does not occur that day: the next day's.
    [
      ["2-3"],
      "2024-03-30T12:00:00Z",
      "Mon 2024-04-01 02:00:00 +02:00",
      "Mon 2024-04-01 03:00:00 +02:00",
    ],
    // A weekly su 2-3: the next Sunday.
    [
      ["su 2-3"],
      "2024-03-30T12:00:00Z",
      "Sun 2024-04-07 02:00:00 +02:00",
      "Sun 2024-04-07 03:00:00 +02:00",
    ],
    // A window partly in the gap is shorter: 03:00-04:00 CEST.
    [
      ["su 2-4"],
      "2024-03-30T12:00:00Z",
      "Sun 2024-03-31 03:00:00 +02:00",
      "Sun 2024-03-31 04:00:00 +02:00",
    ],
    // A window ending in the gap ends at the jump: 01:00-02:00 CET is one hour.
    [
      ["su 1-3"],
      "2024-03-30T12:00:00Z",
      "Sun 2024-03-31 01:00:00 +01:00",
      "Sun 2024-03-31 03:00:00 +02:00",
    ],
    // Just before the jump, inside 1-3: now itself.
    [
      ["su 1-3"],
      "2024-03-31T00:59:59Z",
      "Sun 2024-03-31 01:59:59 +01:00",
      "Sun 2024-03-31 03:00:00 +02:00",
    ],
    // Right at the jump a 3-4 window starts.
    [
      ["3-4"],
      "2024-03-31T00:30:00Z",
      "Sun 2024-03-31 03:00:00 +02:00",
      "Sun 2024-03-31 04:00:00 +02:00",
    ],
  ];
  for (const [entries, now, want, until] of rows) {
    const schedule = parseSchedule(entries, { timeZone: AMS });
    const next = nextAllowedTime(schedule, Date.parse(now));
    assertEquals(formatZoned(next, AMS), want, `${entries.join("; ")} at ${now}`);
    assertEquals(formatZoned(allowedUntil(schedule, next), AMS), until, `end of ${want}`);
  }
});

Deno.test("nextAllowedTime() allows both occurrences of a repeated hour on fall-back day", () => {
  // Europe/Amsterdam, Sunday 2024-10-27: 03:00 CEST becomes 02:00 CET (01:00 UTC);
  // wall-clock times from 02:00 to 02:59 occur twice.
  type Row = [string[], string, string, string];
  const rows: Row[] = [
    // 2-3 starts at the first occurrence and lasts two hours.
    [
      ["2-3"],
      "2024-10-26T12:00:00Z",
      "Sun 2024-10-27 02:00:00 +02:00",
      "Sun 2024-10-27 03:00:00 +01:00",
    ],
    // During the first occurrence: now.
    [
      ["2-3"],
      "2024-10-27T00:30:00Z",
      "Sun 2024-10-27 02:30:00 +02:00",
      "Sun 2024-10-27 03:00:00 +01:00",
    ],
    // During the second occurrence: now.
    [
      ["2-3"],
      "2024-10-27T01:30:00Z",
      "Sun 2024-10-27 02:30:00 +01:00",
      "Sun 2024-10-27 03:00:00 +01:00",
    ],
    // A window inside the repeated hour that has passed once comes again after the jump.
    [
      ["su 1:30-2:15"],
      "2024-10-27T00:30:00Z",
      "Sun 2024-10-27 02:00:00 +01:00",
      "Sun 2024-10-27 02:15:00 +01:00",
    ],
    // 03:00 CEST never shows on the clock; 3-4 starts at 03:00 CET.
    [
      ["3-4"],
      "2024-10-27T00:30:00Z",
      "Sun 2024-10-27 03:00:00 +01:00",
      "Sun 2024-10-27 04:00:00 +01:00",
    ],
  ];
  for (const [entries, now, want, until] of rows) {
    const schedule = parseSchedule(entries, { timeZone: AMS });
    const next = nextAllowedTime(schedule, Date.parse(now));
    assertEquals(formatZoned(next, AMS), want, `${entries.join("; ")} at ${now}`);
    assertEquals(formatZoned(allowedUntil(schedule, next), AMS), until, `end of ${want}`);
  }
});

Deno.test("addAllowedTime() counts only time inside windows", () => {
  type Row = [string[], string, number, string];
  const rows: Row[] = [
    // Inside the window.
    [["mo-fr 9-17"], "2024-10-07T09:00:00+02:00", 3_600_000, "2024-10-07T10:00:00+02:00"],
    // Spills over into the next day's window.
    [["mo-fr 9-17"], "2024-10-07T16:30:00+02:00", 3_600_000, "2024-10-08T09:30:00+02:00"],
    // Starts outside: first moves to the window.
    [["mo-fr 9-17"], "2024-10-05T12:00:00+02:00", 60_000, "2024-10-07T09:01:00+02:00"],
    // Fall-back: 90 minutes into the two-hour 2-3 window ends in the repeated hour.
    [["2-3"], "2024-10-27T00:00:00Z", 5_400_000, "2024-10-27T01:30:00Z"],
    // Empty schedule: plain addition.
    [[], "2024-10-07T09:00:00Z", 1234, "2024-10-07T09:00:01.234Z"],
    // Zero.
    [["mo 9-10"], "2024-10-07T09:59:00+02:00", 0, "2024-10-07T09:59:00+02:00"],
  ];
  for (const [entries, t, ms, want] of rows) {
    const schedule = parseSchedule(entries, { timeZone: AMS });
    assertEquals(
      new Date(addAllowedTime(schedule, Date.parse(t), ms)).toISOString(),
      new Date(want).toISOString(),
      `${entries.join("; ")} ${t} + ${ms}`,
    );
  }
});

Deno.test("isAllowedTime() and allowedUntil() agree with the windows", () => {
  const schedule = parseSchedule(["mo-fr 09:30-17:00"], { timeZone: AMS });
  assert(isAllowedTime(schedule, Date.parse("2024-10-07T09:30:00+02:00")));
  assert(!isAllowedTime(schedule, Date.parse("2024-10-07T17:00:00+02:00")));
  assert(!isAllowedTime(schedule, Date.parse("2024-10-06T12:00:00+02:00"))); // Sunday
  assertEquals(
    allowedUntil(schedule, Date.parse("2024-10-07T12:00:00+02:00")),
    Date.parse("2024-10-07T17:00:00+02:00"),
  );
  // Not allowed: the stretch is empty.
  const sunday = Date.parse("2024-10-06T12:00:00+02:00");
  assertEquals(allowedUntil(schedule, sunday), sunday);
  // Everything allowed.
  assertEquals(allowedUntil(parseSchedule(["0-24"]), sunday), Infinity);
  assertEquals(allowedUntil(parseSchedule([]), sunday), Infinity);
});

Deno.test("zoneOffset() and wallClock() follow the zone's clock changes", () => {
  type Row = [string, string, number, string];
  const rows: Row[] = [
    // Last second of CET before spring-forward.
    [AMS, "2024-03-31T00:59:59Z", 3600, "2024-03-31 01:59:59 su"],
    // First second of CEST.
    [AMS, "2024-03-31T01:00:00Z", 7200, "2024-03-31 03:00:00 su"],
    // Last second of CEST before fall-back.
    [AMS, "2024-10-27T00:59:59Z", 7200, "2024-10-27 02:59:59 su"],
    // First second of CET.
    [AMS, "2024-10-27T01:00:00Z", 3600, "2024-10-27 02:00:00 su"],
    // A zone west of UTC with a half-hour offset.
    ["America/St_Johns", "2024-07-01T12:00:00Z", -9000, "2024-07-01 09:30:00 mo"],
    // UTC.
    ["UTC", "2024-07-01T12:00:00.500Z", 0, "2024-07-01 12:00:00 mo"],
  ];
  for (const [zone, t, offset, want] of rows) {
    const ms = Date.parse(t);
    assertEquals(zoneOffset(ms, zone), offset * 1000, `${zone} ${t}`);
    const w = wallClock(ms, zone);
    const pad = (n: number) => String(n).padStart(2, "0");
    assertEquals(
      `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${
        pad(w.second)
      } ${w.weekday}`,
      want,
    );
  }
});

Deno.test("nextAllowedTime() rejects a hand-made schedule without any time", () => {
  const schedule = { periods: [{ days: [], ranges: [{ start: 0, end: 60 }] }], timeZone: AMS };
  assertThrows(() => nextAllowedTime(schedule, 0), RangeError);
});

Deno.test("describeSchedule() prints the schedule in entry syntax", () => {
  assertEquals(describeSchedule(parseSchedule([])), "any time");
  assertEquals(
    describeSchedule(parseSchedule(["mo-fr 09:30-17:00", "sa", "9-12"], { timeZone: AMS })),
    "mo-fr 09:30-17; sa; 9-12 (Europe/Amsterdam)",
  );
  assertEquals(
    describeSchedule(parseSchedule(["sa-mo,we 9-12", "mo,tu 1-2"])),
    "sa-mo,we 9-12; mo,tu 1-2",
  );
});

Deno.test("an empty time zone is the process's local zone", async () => {
  // The process's zone is fixed at start, so a child process runs with TZ set.
  const code = `
    import { nextAllowedTime, parseSchedule } from ${
    JSON.stringify(new URL("../../src/decide/schedule.ts", import.meta.url).href)
  };
    const s = parseSchedule(["su 2-3", "mo-fr 09:30-17:00"]);
    const out = [];
    for (let t = Date.parse("2024-03-28T00:00:00Z"); t < Date.parse("2024-04-03T00:00:00Z"); t += 3_600_000 * 5) {
      out.push(nextAllowedTime(s, t));
    }
    console.log(JSON.stringify(out));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { TZ: AMS, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const local: number[] = JSON.parse(new TextDecoder().decode(out.stdout));
  const s = parseSchedule(["su 2-3", "mo-fr 09:30-17:00"], { timeZone: AMS });
  const want: number[] = [];
  for (
    let t = Date.parse("2024-03-28T00:00:00Z");
    t < Date.parse("2024-04-03T00:00:00Z");
    t += 3_600_000 * 5
  ) {
    want.push(nextAllowedTime(s, t));
  }
  assertEquals(local, want);
});
