/**
 * `deno task bench`: runs every benchmark, each printed as a comparison against a
 * baseline measured in the same run, and exits 1 when a target is missed.
 * Pass names to run only some: `deno task bench inspect`.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { benchDiscover } from "./discover.ts";
import { benchDownload } from "./download.ts";
import { benchFleet } from "./fleet.ts";
import { benchInspect } from "./inspect.ts";
import { benchListen } from "./listen.ts";
import { benchRun } from "./run.ts";
import { benchSchedule } from "./schedule.ts";
import { benchStart } from "./start.ts";
import { benchTlog } from "./tlog.ts";
import { benchUpdate } from "./update.ts";

/** Benchmarks by name, in pipeline order. */
const BENCHMARKS: Record<string, () => Promise<boolean>> = {
  start: benchStart,
  inspect: benchInspect,
  run: benchRun,
  discover: benchDiscover,
  schedule: benchSchedule,
  download: benchDownload,
  tlog: benchTlog,
  update: benchUpdate,
  listen: benchListen,
  fleet: benchFleet,
};

const names = Deno.args.length > 0 ? Deno.args : Object.keys(BENCHMARKS);
let ok = true;
for (const name of names) {
  const bench = BENCHMARKS[name];
  if (bench === undefined) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHMARKS).join(", ")}`);
    Deno.exit(2);
  }
  ok = (await bench()) && ok;
}
Deno.exit(ok ? 0 : 1);
