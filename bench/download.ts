/**
 * Benchmark: `ysco fetch` of a Go binary of at least 100 MB from the test gobuild
 * server (lookup, then download, gunzip, SHA-256 and write, in one stream), next to
 * `gunzip -c FILE.gz | sha256sum` of the same gzip file in the same run; and the
 * Deno runtime's own start as the memory baseline.
 *
 * Targets: at least 0.7x the pipeline's throughput; peak memory under 64 MB above the
 * runtime's baseline.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { join } from "node:path";
import { startGobuildServer } from "../tests/_gobuild_server.ts";
import { YSCO } from "../tests/_util.ts";
import { bigBinary } from "./_big_binary.ts";
import { measureCommand, printTable, verdict } from "./_measure.ts";

const RUNS = 5;

/** Runs the benchmark and prints its tables. */
export async function benchDownload(): Promise<boolean> {
  const file = await bigBinary();
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
  const work = await Deno.makeTempDir({ prefix: "ysco-bench-download-", dir: join(file, "..") });
  const empty = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    const gzFile = join(work, "binary.gz");
    await Deno.writeFile(gzFile, new Uint8Array(await (await fetch(build.url)).arrayBuffer()));
    const gzSize = (await Deno.stat(gzFile)).size;
    const pipeline = await measureCommand("sh", [
      "-c",
      `gunzip -c '${gzFile}' | sha256sum`,
    ], RUNS);
    const out = join(work, "big");
    const fetchArgs = [
      "fetch",
      "-dir",
      join(work, "ys"),
      "-o",
      out,
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
    ];
    const ysco = await measureCommand(YSCO, fetchArgs, RUNS);
    const base = await measureCommand(Deno.execPath(), ["run", "--quiet", empty], RUNS);
    // ysco's own start: the same program and modules, without a download.
    const loaded = await measureCommand(YSCO, ["help", "fetch"], RUNS);
    const mbs = (ms: number) => size / 1e6 / (ms / 1000);
    const ratio = mbs(ysco.medianMs) / mbs(pipeline.medianMs);
    const aboveMb = (ysco.peakRssKb - base.peakRssKb) / 1024;
    printTable(
      `download: a ${(size / 2 ** 20).toFixed(0)} MiB binary (${
        (gzSize / 2 ** 20).toFixed(0)
      } MiB gzipped), median of ${RUNS}`,
      ["command", "time ms", "MB/s", "peak RSS MiB"],
      [
        [
          "gunzip -c | sha256sum",
          pipeline.medianMs.toFixed(0),
          mbs(pipeline.medianMs).toFixed(0),
          "-",
        ],
        [
          "ysco fetch (lookup, download, verify, write, fsync)",
          ysco.medianMs.toFixed(0),
          mbs(ysco.medianMs).toFixed(0),
          (ysco.peakRssKb / 1024).toFixed(1),
        ],
        [
          "ysco help fetch (loaded, no download)",
          loaded.medianMs.toFixed(0),
          "-",
          (
            loaded.peakRssKb / 1024
          ).toFixed(1),
        ],
        [
          "deno run (empty program)",
          base.medianMs.toFixed(0),
          "-",
          (base.peakRssKb / 1024).toFixed(1),
        ],
      ],
    );
    const okSpeed = ratio >= 0.7;
    const okMemory = aboveMb < 64;
    console.log(
      `  ${verdict(okSpeed, `throughput ${ratio.toFixed(2)}x the pipeline's (target >= 0.7x)`)}`,
    );
    console.log(
      `  ${
        verdict(
          okMemory,
          `peak memory ${aboveMb.toFixed(1)} MiB above the runtime's (target < 64 MiB)`,
        )
      }`,
    );
    return okSpeed && okMemory;
  } finally {
    await Deno.remove(work, { recursive: true });
    await Deno.remove(empty);
  }
}
