/**
 * Benchmark: start-up. `ysco version` from source (bin/ysco) and as the release
 * bundle (dist/ysco.js, built here), next to an empty Deno program, the commands
 * taking turns in each round. The bundle runs through its `#!` line (with V8's code
 * cache in the Deno cache, filled by the first round), with `--no-code-cache`, and
 * with an empty Deno cache each time (its first start on a machine).
 *
 * Targets: `ysco version` at most 2x the empty program; the bundle no slower than
 * the source.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { join } from "node:path";
import { bundleProgram, runtimeFlags } from "../scripts/compile.ts";
import { YSCO } from "../world/util.ts";
import { measureInterleaved, printTable, type TimedCommand, verdict } from "./_measure.ts";

const RUNS = 31;

/** Runs the benchmark and prints its table. */
export async function benchStart(): Promise<boolean> {
  const work = await Deno.makeTempDir({ prefix: "ysco-bench-start-" });
  try {
    const empty = join(work, "empty.js");
    await Deno.writeTextFile(empty, "");
    const bundle = join(work, "ysco.js");
    await bundleProgram(bundle, "v0.0.0-bench");
    const denoDir = join(work, "deno-dir");
    const deno = Deno.execPath();
    const bundleRun = ["run", "--quiet", "--no-prompt", "--no-config", "--no-lock"];
    const flags = await runtimeFlags();
    const commands: Array<[string, TimedCommand & { prepare?: () => Promise<void> }]> = [
      ["deno run (empty program)", {
        cmd: deno,
        args: ["run", "--quiet", "-A", "--no-config", empty],
      }],
      ["bin/ysco version (source)", { cmd: YSCO, args: ["version"] }],
      ["bundle version (code cache)", { cmd: bundle, args: ["version"] }],
      [
        "bundle version (--no-code-cache)",
        { cmd: deno, args: [...bundleRun, ...flags, "--no-code-cache", bundle, "version"] },
      ],
      [
        "bundle version (empty Deno cache)",
        {
          cmd: bundle,
          args: ["version"],
          env: { DENO_DIR: denoDir },
          prepare: () => Deno.remove(denoDir, { recursive: true }).catch(() => {}),
        },
      ],
    ];
    const ms = await measureInterleaved(commands.map(([, c]) => c), RUNS);
    const [base = 0, source = 0, cached = 0] = ms;
    printTable(
      `start: whole commands (median of ${RUNS}, taking turns)`,
      ["command", "ms", "x empty", "x source"],
      commands.map(([what], i) => {
        const t = ms[i] ?? 0;
        return [what, t.toFixed(1), (t / base).toFixed(2), (t / source).toFixed(2)];
      }),
    );
    const checks: Array<[boolean, string]> = [
      [
        source <= 2 * base,
        `ysco version ${(source / base).toFixed(2)}x an empty Deno program (target <= 2x)`,
      ],
      [
        cached <= source,
        `the bundle's version ${(cached / source).toFixed(2)}x the source's (target <= 1x)`,
      ],
    ];
    for (const [ok, what] of checks) console.log(`  ${verdict(ok, what)}`);
    return checks.every(([ok]) => ok);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
