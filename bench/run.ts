/**
 * Benchmark: the cost of supervision. Resident memory and CPU time of an idle
 * `ysco run` with its admin server, supervising the test service, next to the
 * service alone and an empty Deno program kept alive, over the same period; and the
 * time from starting `ysco run` to the service's first HTTP answer, next to starting
 * the service directly (from source, and as the release bundle).
 *
 * Targets: at most 45 MiB resident; no CPU at all while idle (no polling, no timers,
 * no garbage collections), measured from BENCH_SETTLE_SECONDS (5) after the start
 * for BENCH_IDLE_SECONDS (60); start-up overhead under 60 ms.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { join } from "node:path";
import { bundleProgram } from "../scripts/compile.ts";
import { goBuild } from "../world/go.ts";
import { freePort, httpText, Proc, procStatus, startYsco } from "../world/process.ts";
import { installService, writeYsDir } from "../world/service.ts";
import { median, printTable, verdict } from "./_measure.ts";

const IDLE_SECONDS = Number(Deno.env.get("BENCH_IDLE_SECONDS") ?? "60");
const SETTLE_SECONDS = Number(Deno.env.get("BENCH_SETTLE_SECONDS") ?? "5");
const STARTS = 15;

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
    const empty = join(dir, "empty.js");
    await Deno.writeTextFile(empty, "setTimeout(() => {}, 1e9);\n");
    const bundle = join(dir, "ysco.js");
    await bundleProgram(bundle, "v0.0.0-bench");

    // Idle: side by side for the same period.
    const alonePort = freePort();
    const servicePort = freePort();
    const adminAddr = () => `127.0.0.1:${freePort()}`;
    const run = (ysco: string, port: number) =>
      ysco === bundle
        ? new Proc(bundle, ["run", "-addr", adminAddr(), cmd, "-addr", `127.0.0.1:${port}`], {
          cwd: dir,
        })
        : startYsco(["run", "-addr", adminAddr(), cmd, "-addr", `127.0.0.1:${port}`], { cwd: dir });
    await using alone = new Proc(binary, ["-addr", `127.0.0.1:${alonePort}`]);
    await using deno = new Proc(Deno.execPath(), ["run", "--quiet", "-A", "--no-config", empty]);
    const started = performance.now();
    await using ysco = run("source", servicePort);
    await untilAnswering(alonePort);
    await untilAnswering(servicePort);
    await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000 - (performance.now() - started)));
    const pids = { alone: alone.pid, deno: deno.pid, ysco: ysco.pid };
    const before = { alone: cpuMs(pids.alone), deno: cpuMs(pids.deno), ysco: cpuMs(pids.ysco) };
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idle = {
      alone: cpuMs(pids.alone) - before.alone,
      deno: cpuMs(pids.deno) - before.deno,
      ysco: cpuMs(pids.ysco) - before.ysco,
    };
    const rss = { alone: rssMiB(pids.alone), deno: rssMiB(pids.deno), ysco: rssMiB(pids.ysco) };
    printTable(
      `run: idle for ${IDLE_SECONDS} s, from ${SETTLE_SECONDS} s after the start`,
      ["process", "RSS MiB", "CPU ms while idle"],
      [
        ["service alone", rss.alone.toFixed(1), idle.alone],
        ["deno, empty program kept alive", rss.deno.toFixed(1), idle.deno],
        ["ysco run with admin server (ysco only)", rss.ysco.toFixed(1), idle.ysco],
      ],
    );
    await ysco[Symbol.asyncDispose]();

    // Start-up: spawn to the service's first HTTP answer, the three taking turns.
    const times = { alone: [] as number[], source: [] as number[], bundle: [] as number[] };
    for (let i = 0; i < STARTS; i++) {
      for (const which of ["alone", "source", "bundle"] as const) {
        const port = freePort();
        const t0 = performance.now();
        await using _proc = which === "alone"
          ? new Proc(binary, ["-addr", `127.0.0.1:${port}`])
          : run(which === "bundle" ? bundle : "source", port);
        await untilAnswering(port);
        times[which].push(performance.now() - t0);
      }
    }
    const m = {
      alone: median(times.alone),
      source: median(times.source),
      bundle: median(times.bundle),
    };
    const overhead = m.source - m.alone;
    printTable(`run: start to the service's first HTTP answer (median of ${STARTS})`, [
      "start",
      "ms",
      "overhead ms",
    ], [
      ["service directly", m.alone.toFixed(1), "-"],
      ["bin/ysco run -addr ... service", m.source.toFixed(1), overhead.toFixed(1)],
      ["bundle run -addr ... service", m.bundle.toFixed(1), (m.bundle - m.alone).toFixed(1)],
    ]);

    const checks: Array<[boolean, string]> = [
      [rss.ysco <= 45, `ysco resident ${rss.ysco.toFixed(1)} MiB (target <= 45 MiB)`],
      [idle.ysco === 0, `ysco CPU while idle ${idle.ysco} ms in ${IDLE_SECONDS} s (target: none)`],
      [overhead < 60, `start-up overhead ${overhead.toFixed(1)} ms (target < 60 ms)`],
    ];
    for (const [ok, what] of checks) console.log(`  ${verdict(ok, what)}`);
    return checks.every(([ok]) => ok);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
