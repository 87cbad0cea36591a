import { assertEquals, assertThrows } from "./_assert.ts";
import { formatDuration, parseDuration } from "../src/duration.ts";

Deno.test("parseDuration() reads Go's duration syntax", () => {
  const rows: Array<[string, number]> = [
    // [text, milliseconds]
    ["72h", 72 * 3600_000],
    ["1h30m", 5400_000],
    ["90s", 90_000],
    ["1.5h", 5400_000], // fractions
    ["500ms", 500],
    ["100us", 0.1],
    ["0", 0], // a bare zero needs no unit, as in Go
    ["0s", 0],
    ["1h0m0s", 3600_000], // Go's own output parses back
    ["-2m", -120_000],
    ["+3s", 3000],
    [".5s", 500],
  ];
  for (const [text, ms] of rows) assertEquals(parseDuration(text), ms, text);
});

Deno.test("parseDuration() rejects malformed durations with the reason", () => {
  const rows: Array<[string, RegExp]> = [
    // [text, message]
    ["", /empty/],
    ["10", /missing unit/], // only "0" may omit the unit
    ["1x", /unknown unit "x"/],
    ["h", /expected a number/],
    ["1h 30m", /unknown unit "h "/], // no spaces
    ["1e3s", /unknown unit "e"/],
  ];
  for (const [text, message] of rows) assertThrows(() => parseDuration(text), message, text);
});

Deno.test("formatDuration() writes what Go's Duration.String writes", () => {
  const rows: Array<[number, string]> = [
    // [milliseconds, text]
    [0, "0s"],
    [72 * 3600_000, "72h0m0s"],
    [60_000, "1m0s"],
    [90_000, "1m30s"],
    [1500, "1.5s"],
    [500, "500ms"],
    [0.1, "100\u00b5s"],
    [-120_000, "-2m0s"],
  ];
  for (const [ms, text] of rows) {
    assertEquals(formatDuration(ms), text, String(ms));
    assertEquals(parseDuration(text), ms, text);
  }
});
