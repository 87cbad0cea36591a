/**
 * Benchmark: `ysco inspect` on a Go binary of at least 200 MB next to
 * `go version -m` on the same file, in the same run: whole-command time and peak
 * memory, the Deno runtime's own start as a baseline, and the time of one read
 * in process (ysco's reader vs Go's debug/buildinfo).
 *
 * Targets: no slower than 2x Go, under 30 MB of memory above the runtime's baseline.
 *
 * Then hostile files, generated: 65,000 PT_LOAD headers mapping the same bytes, and
 * a 16 MiB Go version string. ysco refuses both; the table shows its time and memory
 * next to `go version -m` on the same files (Go reads the version string whole).
 * Targets: no slower than 2x Go above the runtime, under 30 MB above the runtime.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { fileURLToPath } from "node:url";
import { readBuildInfo } from "../src/buildinfo/mod.ts";
import { GO_TOOLCHAINS, run } from "../world/go.ts";
import { YSCO } from "../world/util.ts";
import { goElf, inlineBlob, manyLoads, modInfoText } from "../world/synthetic_binaries.ts";
import { bigBinary } from "./_big_binary.ts";
import { type CommandMeasure, measureCommand, printTable, verdict } from "./_measure.ts";

const RUNS = 15;

/** Runs the benchmark and prints its tables. */
export async function benchInspect(): Promise<boolean> {
  const file = await bigBinary();
  const size = (await Deno.stat(file)).size;
  const empty = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    const go = await measureCommand(GO_TOOLCHAINS["1.23"], ["version", "-m", file], RUNS);
    const ysco = await measureCommand(YSCO, ["inspect", file], RUNS);
    // The runtime's own start: the same `deno run` with the same flags, on an empty program.
    const base = await measureCommand(Deno.execPath(), ["run", "--quiet", empty], RUNS);
    const aboveBase = ysco.medianMs - base.medianMs;
    printTable(
      `inspect: whole commands on a ${
        (size / 2 ** 20).toFixed(0)
      } MiB Go binary (median of ${RUNS})`,
      ["command", "time ms", "peak RSS MiB"],
      [
        ["go version -m", go.medianMs.toFixed(1), (go.peakRssKb / 1024).toFixed(1)],
        ["ysco inspect", ysco.medianMs.toFixed(1), (ysco.peakRssKb / 1024).toFixed(1)],
        ["deno run (empty program)", base.medianMs.toFixed(1), (base.peakRssKb / 1024).toFixed(1)],
        [
          "ysco above the runtime",
          aboveBase.toFixed(1),
          ((ysco.peakRssKb - base.peakRssKb) / 1024).toFixed(1),
        ],
      ],
    );

    // One read in process, where no process start blurs the comparison.
    const goNs = Number(
      await run(GO_TOOLCHAINS["1.23"], [
        "run",
        fileURLToPath(new URL("./testdata/readbuildinfo.go", import.meta.url)),
        file,
        "200",
      ], {
        env: {
          PATH: "/usr/bin:/bin",
          HOME: "/tmp",
          GOTOOLCHAIN: "local",
          GOTELEMETRY: "off",
          GOCACHE: "/tmp/ysco-bench-gocache",
        },
      }),
    );
    const ours: number[] = [];
    for (let i = 0; i < 100; i++) await readBuildInfo(file); // let the JIT warm up, as Go's code is compiled ahead
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await readBuildInfo(file);
      ours.push(performance.now() - t0);
    }
    ours.sort((a, b) => a - b);
    const oursMs = ours[100] ?? 0;
    printTable("inspect: one read in process (median of 200)", ["reader", "time ms"], [
      ["Go debug/buildinfo.ReadFile", (goNs / 1e6).toFixed(3)],
      ["ysco readBuildInfo", oursMs.toFixed(3)],
    ]);

    const memOk = ysco.peakRssKb - base.peakRssKb < 30 * 1024;
    const timeOk = aboveBase <= 2 * go.medianMs && oursMs <= 2 * (goNs / 1e6);
    console.log(verdict(
      timeOk,
      `time above the runtime ${aboveBase.toFixed(1)} ms vs go version -m ${
        go.medianMs.toFixed(1)
      } ms; ` +
        `in process ${oursMs.toFixed(3)} ms vs Go ${(goNs / 1e6).toFixed(3)} ms (target <= 2x)`,
    ));
    console.log(
      verdict(
        memOk,
        `memory above the runtime ${
          ((ysco.peakRssKb - base.peakRssKb) / 1024).toFixed(1)
        } MiB (target < 30 MiB)`,
      ),
    );
    const hostileOk = await benchHostile(base);
    return memOk && timeOk && hostileOk;
  } finally {
    await Deno.remove(empty);
  }
}

/** ysco inspect and go version -m on generated hostile files; base is the runtime's own start. */
async function benchHostile(base: CommandMeasure): Promise<boolean> {
  const dir = await Deno.makeTempDir({ prefix: "ysco-bench-hostile-" });
  try {
    const files: Array<[string, Uint8Array]> = [
      ["65,000 PT_LOAD headers", manyLoads(65_000)],
      ["16 MiB Go version", goElf(inlineBlob(new Uint8Array(16 << 20).fill(0x41), modInfoText()))],
    ];
    const rows: string[][] = [];
    let ok = true;
    for (const [i, [name, bytes]] of files.entries()) {
      const file = `${dir}/hostile-${i}`;
      await Deno.writeFile(file, bytes, { mode: 0o755 });
      // ysco exits 1 for a file it refuses: run both through sh, which exits 0.
      const go = await measureCommand("/bin/sh", [
        "-c",
        `"$0" version -m "$1"; true`,
        GO_TOOLCHAINS["1.23"],
        file,
      ], RUNS);
      const ours = await measureCommand(
        "/bin/sh",
        ["-c", `"$0" inspect "$1"; true`, YSCO, file],
        RUNS,
      );
      const aboveMs = ours.medianMs - base.medianMs;
      const aboveMiB = (ours.peakRssKb - base.peakRssKb) / 1024;
      ok &&= aboveMs <= 2 * go.medianMs && aboveMiB < 30;
      rows.push([
        `${name} (${(bytes.length / 2 ** 20).toFixed(1)} MiB)`,
        go.medianMs.toFixed(1),
        (go.peakRssKb / 1024).toFixed(1),
        aboveMs.toFixed(1),
        aboveMiB.toFixed(1),
      ]);
    }
    printTable(
      `inspect: hostile files (median of ${RUNS}; ysco above the runtime's own start)`,
      ["file", "go ms", "go MiB", "ysco ms", "ysco MiB"],
      rows,
    );
    console.log(verdict(ok, "hostile files: ysco time <= 2x go version -m, memory < 30 MiB"));
    return ok;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
