/**
 * The download benchmark's measured process (run with ysco's runtime flags): a
 * download with src/verify/download.ts, as `ysco run` does for an update, with its
 * time and the process's resident memory around it. Prints one JSON line:
 * { ms, beforeKiB, peakRiseKiB, retainedKiB } (retained: RETAIN_SECONDS after it).
 *
 * Arguments: URL RECORD-JSON DEST RETAIN_SECONDS [WARM-URL WARM-RECORD-JSON]; with the
 * WARM pair, a first download of that build runs before measuring.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- prints its figures for bench/download.ts

import { downloadBinary } from "../src/verify/download.ts";

const [url = "", record = "", dest = "", retainSeconds = "10", warmUrl, warmRecord] = Deno.args;

/** A figure of /proc/self/status in KiB (VmRSS, VmHWM). */
function statusKiB(key: string): number {
  const line = Deno.readTextFileSync("/proc/self/status").split("\n").find((l) =>
    l.startsWith(key + ":")
  );
  return parseInt(line?.slice(key.length + 1) ?? "0", 10);
}

/** Downloads a build; returns the temporary file. */
async function fetchOnce(url: string, record: string): Promise<string> {
  return (await downloadBinary({ url, record: JSON.parse(record), dest })).path;
}

if (warmUrl !== undefined && warmRecord !== undefined) {
  await Deno.remove(await fetchOnce(warmUrl, warmRecord));
}
await new Promise((r) => setTimeout(r, 500));
const beforeKiB = statusKiB("VmRSS");
Deno.writeTextFileSync("/proc/self/clear_refs", "5"); // VmHWM := VmRSS
const t0 = performance.now();
const path = await fetchOnce(url, record);
const ms = performance.now() - t0;
await Deno.remove(path);
const peakRiseKiB = statusKiB("VmHWM") - beforeKiB;
await new Promise((r) => setTimeout(r, Number(retainSeconds) * 1000));
const retainedKiB = statusKiB("VmRSS") - beforeKiB;
console.log(JSON.stringify({ ms, beforeKiB, peakRiseKiB, retainedKiB }));
