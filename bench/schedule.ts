/**
 * Benchmark: the schedule's next-allowed-time computation, next to the cost of one
 * `Intl.DateTimeFormat.formatToParts` call (the unit it is built from) measured in
 * the same run, for a common schedule, a sparse weekly window, and times around a
 * clock change.
 *
 * Target: under 1 ms per call in the worst case, and under 200 formatToParts calls'
 * worth of time (the timer and `ysco plan` call it a few times per update).
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { addAllowedTime, nextAllowedTime, parseSchedule } from "../src/decide/schedule.ts";
import { printTable, verdict } from "./_measure.ts";

const ZONE = "Europe/Amsterdam";
const N = 5000;

/** Runs the benchmark and prints its table. */
export function benchSchedule(): Promise<boolean> {
  const start = Date.parse("2024-03-24T00:00:00Z");
  const times = Array.from({ length: N }, (_, i) => start + ((i * 7_919_000) % (14 * 86_400_000)));

  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone: ZONE,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  const unit = perCall(() => {
    for (const t of times) fmt.formatToParts(t);
  });

  const cases: Array<[string, () => void]> = [
    ["mo-fr 9-17", caseOf(["mo-fr 9-17"], times, false)],
    ["su 2:30-2:31 (weekly, in the DST gap)", caseOf(["su 2:30-2:31"], times, false)],
    [
      "sa-mo,we 9-12; fr 7-8,12-13,18-20",
      caseOf(["sa-mo,we 9-12", "fr 7-8,12-13,18-20"], times, false),
    ],
    ["mo-fr 9-17 + 1h jitter in allowed time", caseOf(["mo-fr 9-17"], times, true)],
  ];
  const rows: Array<Array<string>> = [["Intl formatToParts (baseline unit)", fmtUs(unit), "1"]];
  let worst = 0;
  for (const [name, fn] of cases) {
    const us = perCall(fn);
    worst = Math.max(worst, us);
    rows.push([name, fmtUs(us), (us / unit).toFixed(0)]);
  }
  printTable(
    `schedule: next allowed time in ${ZONE} (${N} times over two weeks around a DST change)`,
    [
      "case",
      "us/call",
      "x formatToParts",
    ],
    rows,
  );
  const ok = worst < 1000 && worst / unit < 200;
  console.log(
    verdict(
      ok,
      `worst ${fmtUs(worst)} us/call, ${
        (worst / unit).toFixed(0)
      }x formatToParts (target < 1000 us and < 200x)`,
    ),
  );
  return Promise.resolve(ok);
}

function caseOf(entries: string[], times: number[], jitter: boolean): () => void {
  const schedule = parseSchedule(entries, { timeZone: ZONE });
  return jitter
    ? () => {
      for (const t of times) addAllowedTime(schedule, t, 3_600_000);
    }
    : () => {
      for (const t of times) nextAllowedTime(schedule, t);
    };
}

/** Median microseconds per call of fn's N calls, over 7 runs after a warm-up. */
function perCall(fn: () => void): number {
  fn();
  const runs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    fn();
    runs.push(((performance.now() - t0) * 1000) / N);
  }
  runs.sort((a, b) => a - b);
  return runs[3] ?? 0;
}

function fmtUs(us: number): string {
  return us.toFixed(1);
}
