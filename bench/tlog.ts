/**
 * Benchmark: a cold lookup (empty cache) in a log of 1,000,000 records on the test
 * gobuild server: requests, bytes and time, next to a plain unverified GET of the
 * same lookup URL in the same run.
 *
 * Target: at most 7 requests (the lookup, the log's edge tiles of 3 levels, one full
 * tile per level below the top for the record) and under 64 KiB.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { startGobuildServer } from "../world/gobuild_server.ts";
import { TlogClient } from "../src/verify/tlog_client.ts";
import { httpTlogOps } from "../src/verify/tlog_ops.ts";
import { buildSpecKey, parseRecord } from "../src/verify/buildspec.ts";
import { printTable, verdict } from "./_measure.ts";

const RECORDS = 1_000_000;
const RUNS = 5;

/** Runs the benchmark and prints its table. */
export async function benchTlog(): Promise<boolean> {
  await using server = await startGobuildServer();
  const t0 = performance.now();
  for (let i = 0; i < RECORDS; i++) {
    const sum = "0" + i.toString(36).padStart(27, "A");
    server.addRecord(`example.com/bench v0.${i}.0 / linux amd64 go1.23.5 1000 ${sum} stripped\n`);
  }
  const buildMs = performance.now() - t0;
  const records = [Math.floor(RECORDS / 2), RECORDS - 1, 12345];
  const rows: Array<Array<string | number>> = [];
  let ok = true;
  for (const id of records) {
    const record = parseRecord(server.records()[id] ?? "");
    const url = `${server.tlogUrl}/lookup/${buildSpecKey(record)}`;
    const plain: number[] = [];
    const cold: number[] = [];
    let requests = 0;
    let bytes = 0;
    for (let run = 0; run < RUNS; run++) {
      const p0 = performance.now();
      await (await fetch(url)).arrayBuffer();
      plain.push(performance.now() - p0);

      const dir = await Deno.makeTempDir({ prefix: "ysco-bench-tlog-" });
      try {
        requests = 0;
        bytes = 0;
        const client = new TlogClient(server.verifierKey, {
          ops: httpTlogOps({
            baseUrl: server.tlogUrl,
            dir,
            name: "localhost",
            onRemoteRead: (_url, n) => {
              requests++;
              bytes += n;
            },
          }),
        });
        const c0 = performance.now();
        const got = await client.lookup(record);
        cold.push(performance.now() - c0);
        if (got.id !== id) throw new Error(`looked up record ${got.id}, expected ${id}`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
    const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? 0;
    ok = ok && requests <= 7 && bytes < 64 * 1024;
    rows.push([
      `record ${id}`,
      requests,
      (bytes / 1024).toFixed(1),
      median(cold).toFixed(1),
      median(plain).toFixed(1),
    ]);
  }
  printTable(
    `tlog: cold lookups in a log of ${RECORDS} records (built in ${
      (buildMs / 1000).toFixed(1)
    } s), median of ${RUNS}`,
    ["lookup", "requests", "KiB", "verified ms", "plain GET ms"],
    rows,
  );
  console.log(`  ${verdict(ok, "at most 7 requests and under 64 KiB per cold lookup")}`);
  return ok;
}
