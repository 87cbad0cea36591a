/**
 * Benchmark: the cost of supervision. Resident memory and CPU time of an idle ysco
 * supervising the test service for 60 s, next to the service alone in the same run;
 * and start-up time from `ysco run` to the service answering HTTP, next to starting
 * the service directly.
 *
 * Targets: under 60 MB resident, no CPU used while idle (no polling loops), start-up
 * overhead under 150 ms. The idle period starts BENCH_SETTLE_SECONDS (90) after the
 * start; BENCH_IDLE_SECONDS (60) sets its length.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { goBuild } from "../tests/_go.ts";
import { freePort, httpText, Proc, procStatus, startYsco } from "../tests/_process.ts";
import { installService, writeYsDir } from "../tests/_service.ts";
import { printTable, verdict } from "./_measure.ts";

const IDLE_SECONDS = Number(Deno.env.get("BENCH_IDLE_SECONDS") ?? "60");
const SETTLE_SECONDS = Number(Deno.env.get("BENCH_SETTLE_SECONDS") ?? "90");
const STARTS = 10;

/** CPU time (user + system) of a process in ms, from /proc/PID/stat (100 ticks a second). */
function cpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMiB(pid: number): number {
  return parseInt(procStatus(pid).VmRSS ?? "0", 10) / 1024;
}

async function untilAnswering(port: number): Promise<void> {
  while ((await httpText(`http://127.0.0.1:${port}/`)) === undefined) {
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Runs the benchmark and prints its tables. */
export async function benchRun(): Promise<boolean> {
  const dir = await Deno.makeTempDir({ prefix: "ysco-bench-run-" });
  try {
    const cmd = await installService(dir, { version: "v1.0.0" });
    // Idle: no check for updates in the measured period (they run a day apart).
    await writeYsDir(dir, 'log_level = "info"\n[monitor]\ndelay = "1h"\n');
    const binary = await goBuild({ version: "v1.0.0" });

    // Idle: both side by side for the same period.
    const alonePort = freePort();
    const yscoPort = freePort();
    await using alone = new Proc(binary, ["-addr", `127.0.0.1:${alonePort}`]);
    await using ysco = startYsco(["run", cmd, "-addr", `127.0.0.1:${yscoPort}`], { cwd: dir });
    await untilAnswering(alonePort);
    await untilAnswering(yscoPort);
    // Past start-up: after loading its modules, V8 collects garbage now and then for
    // about a minute (its memory reducer); steady idle comes after that.
    await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
    const before = { alone: cpuMs(alone.pid), ysco: cpuMs(ysco.pid) };
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleCpu = { alone: cpuMs(alone.pid) - before.alone, ysco: cpuMs(ysco.pid) - before.ysco };
    const rss = { alone: rssMiB(alone.pid), ysco: rssMiB(ysco.pid) };
    printTable(`run: idle for ${IDLE_SECONDS} s`, ["process", "RSS MiB", "CPU ms while idle"], [
      ["service alone", rss.alone.toFixed(1), idleCpu.alone],
      ["ysco supervising it (ysco only)", rss.ysco.toFixed(1), idleCpu.ysco],
    ]);

    // Start-up: spawn to first HTTP answer.
    const times = { alone: [] as number[], ysco: [] as number[] };
    for (let i = 0; i < STARTS; i++) {
      for (const which of ["alone", "ysco"] as const) {
        const port = freePort();
        const t0 = performance.now();
        await using _proc = which === "alone"
          ? new Proc(binary, ["-addr", `127.0.0.1:${port}`])
          : startYsco(["run", cmd, "-addr", `127.0.0.1:${port}`], { cwd: dir });
        await untilAnswering(port);
        times[which].push(performance.now() - t0);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const overhead = median(times.ysco) - median(times.alone);
    printTable(`run: start to first HTTP answer (median of ${STARTS})`, ["start", "ms"], [
      ["service directly", median(times.alone).toFixed(1)],
      ["ysco run service", median(times.ysco).toFixed(1)],
      ["overhead", overhead.toFixed(1)],
    ]);

    const rssOk = rss.ysco < 60;
    const cpuOk = idleCpu.ysco <= 20; // one or two scheduler ticks of 10 ms: no polling
    const startOk = overhead < 150;
    console.log(verdict(rssOk, `ysco resident ${rss.ysco.toFixed(1)} MiB (target < 60 MiB)`));
    console.log(
      verdict(cpuOk, `ysco CPU while idle ${idleCpu.ysco} ms in ${IDLE_SECONDS} s (target: none)`),
    );
    console.log(verdict(startOk, `start-up overhead ${overhead.toFixed(1)} ms (target < 150 ms)`));
    return rssOk && cpuOk && startOk;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
