/**
 * Benchmark: fetching a Go binary of about 110 MB of machine code (45 MB gzipped) from
 * the test gobuild server, next to `gunzip -c FILE.gz | sha256sum` of the same gzip
 * file in the same run:
 *
 * - `ysco fetch`, the whole command (start, log lookup and proofs, then download,
 *   gunzip, SHA-256, write and fsync in one stream): its throughput;
 * - the download alone in a process of its own with ysco's runtime flags
 *   (bench/_download_child.ts), as `ysco run` does it for an update: the resident
 *   memory it adds at its peak, and what is still resident BENCH_RETAIN_SECONDS (10)
 *   later; first as the process's first download, then after a small one. The first
 *   download in a process also makes Deno's code and state for HTTP clients,
 *   decompression and file writes resident, about 7 MiB whatever the size (a 5 MB
 *   binary's first download adds as much); what a download itself keeps is the
 *   second figure.
 *
 * Targets: at least 0.9x the pipeline's throughput; for a download (the second),
 * a peak rise of at most 10 MiB and at most 2 MiB retained.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runtimeFlags } from "../scripts/compile.ts";
import { goBuild } from "../world/go.ts";
import { startGobuildServer } from "../world/gobuild_server.ts";
import { YSCO } from "../world/util.ts";
import { updateSizedBinary } from "./_big_binary.ts";
import { measureCommand, printTable, verdict } from "./_measure.ts";

const RUNS = 5;
const RETAIN_SECONDS = Number(Deno.env.get("BENCH_RETAIN_SECONDS") ?? "10");
const CHILD = fileURLToPath(new URL("./_download_child.ts", import.meta.url));

interface ChildFigures {
  ms: number;
  beforeKiB: number;
  peakRiseKiB: number;
  retainedKiB: number;
}

/** Runs the benchmark and prints its tables. */
export async function benchDownload(): Promise<boolean> {
  const file = await updateSizedBinary();
  const size = (await Deno.stat(file)).size;
  await using server = await startGobuildServer();
  const spec = {
    mod: "example.com/big",
    version: "v1.0.0",
    dir: "/",
    goos: "linux",
    goarch: "amd64",
    goversion: "go1.23.5",
    stripped: true,
  };
  const build = await server.addBuild(spec, file);
  const small = await server.addBuild(
    { ...spec, version: "v1.0.1" },
    await goBuild({ version: "v1.0.0" }),
  );
  const work = await Deno.makeTempDir({ prefix: "ysco-bench-download-", dir: join(file, "..") });
  try {
    const gzFile = join(work, "binary.gz");
    await Deno.writeFile(gzFile, new Uint8Array(await (await fetch(build.url)).arrayBuffer()));
    const gzSize = (await Deno.stat(gzFile)).size;
    const pipeline = await measureCommand("sh", ["-c", `gunzip -c '${gzFile}' | sha256sum`], RUNS);
    const ysco = await measureCommand(YSCO, [
      "fetch",
      "-dir",
      join(work, "ys"),
      "-o",
      join(work, "big"),
      "-verifierkey",
      server.verifierKey,
      "-baseurl",
      server.tlogUrl,
      "-goos",
      "linux",
      "-goarch",
      "amd64",
      "example.com/big@v1.0.0/", // module root, named explicitly: no module proxy here
      "go1.23.5",
    ], RUNS);

    const flags = await runtimeFlags();
    const child = async (warm: boolean): Promise<ChildFigures> => {
      const args = [build.url, JSON.stringify(build.record), join(work, "dest")];
      args.push(String(RETAIN_SECONDS));
      if (warm) args.push(small.url, JSON.stringify(small.record));
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", ...flags, CHILD, ...args],
        stdin: "null",
        stderr: "inherit",
      }).output();
      if (!out.success) throw new Error(`Cannot run ${CHILD}: status ${out.code}`);
      return JSON.parse(new TextDecoder().decode(out.stdout));
    };
    const cold = await child(false);
    const warm = await child(true);

    const mbs = (ms: number) => size / 1e6 / (ms / 1000);
    const mib = (kib: number) => (kib / 1024).toFixed(1);
    printTable(
      `download: a ${(size / 1e6).toFixed(0)} MB binary (${(gzSize / 1e6).toFixed(0)} MB gzipped)`,
      ["", "time ms", "MB/s", "RSS before MiB", "peak rise MiB", `${RETAIN_SECONDS} s later`],
      [
        [
          "gunzip -c | sha256sum (median)",
          pipeline.medianMs.toFixed(0),
          mbs(pipeline.medianMs).toFixed(0),
          "-",
          "-",
          "-",
        ],
        [
          `ysco fetch (median of ${RUNS})`,
          ysco.medianMs.toFixed(0),
          mbs(ysco.medianMs).toFixed(0),
          "-",
          "-",
          "-",
        ],
        ...[["download, first in its process", cold], ["download after a small one", warm]].map(
          ([what, f]) => {
            const c = f as ChildFigures;
            return [
              what as string,
              c.ms.toFixed(0),
              mbs(c.ms).toFixed(0),
              mib(c.beforeKiB),
              mib(c.peakRiseKiB),
              mib(c.retainedKiB),
            ];
          },
        ),
      ],
    );
    const ratio = pipeline.medianMs / ysco.medianMs;
    const peak = warm.peakRiseKiB / 1024;
    const retained = warm.retainedKiB / 1024;
    const checks: Array<[boolean, string]> = [
      [
        ratio >= 0.9,
        `ysco fetch at ${ratio.toFixed(2)}x the pipeline's throughput (target >= 0.9x)`,
      ],
      [peak <= 10, `a download's peak memory rise ${peak.toFixed(1)} MiB (target <= 10 MiB)`],
      [
        retained <= 2,
        `a download leaves ${retained.toFixed(1)} MiB ${RETAIN_SECONDS} s later (target <= 2 MiB)`,
      ],
    ];
    for (const [ok, what] of checks) console.log(`  ${verdict(ok, what)}`);
    return checks.every(([ok]) => ok);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
