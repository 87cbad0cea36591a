/**
 * Benchmark: downtime of the service during an update, measured by a load generator
 * hitting it throughout: the longest gap without a successful answer and the failed
 * requests, for an update by ysco (POST /update) next to a manual stop-and-start of
 * the same two binaries in the same run.
 *
 * Target: ysco adds under 50 ms to the manual baseline.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { goBuild } from "../world/go.ts";
import { Proc } from "../world/process.ts";
import { GO, startWorld } from "../world/world.ts";
import { printTable, verdict } from "./_measure.ts";

const ROUNDS = 5;

interface Downtime {
  gapMs: number;
  failed: number;
  requests: number;
}

/** Hits url until stop resolves; returns the longest gap between successes and the failures. */
async function load(url: string, stop: Promise<unknown>): Promise<Downtime> {
  let done = false;
  stop.then(() => done = true);
  let last = performance.now();
  let gap = 0;
  let failed = 0;
  let requests = 0;
  while (!done) {
    requests++;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.text();
      if (!res.ok) throw new Error(String(res.status));
      const now = performance.now();
      gap = Math.max(gap, now - last);
      last = now;
    } catch {
      failed++;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  return { gapMs: gap, failed, requests };
}

async function untilVersion(url: string, version: string): Promise<void> {
  for (;;) {
    try {
      if ((await (await fetch(url)).text()).includes(version)) return;
    } catch {
      // restarting
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs the benchmark and prints its table. */
export async function benchUpdate(): Promise<boolean> {
  const manual: Downtime[] = [];
  const ysco: Downtime[] = [];
  const [v0, v1] = [await goBuild({ version: "v1.0.0" }), await goBuild({ version: "v1.0.1" })];

  for (let round = 0; round < ROUNDS; round++) {
    // Baseline: stop the old binary with SIGTERM, wait for it, start the new one.
    {
      await using world = await startWorld();
      const url = `http://127.0.0.1:${world.servicePort}/`;
      let old = new Proc(v0, ["-addr", `127.0.0.1:${world.servicePort}`]);
      await untilVersion(url, "v1.0.0");
      const switched = (async () => {
        await new Promise((r) => setTimeout(r, 200));
        old.kill("SIGTERM");
        await old.exit();
        old = new Proc(v1, ["-addr", `127.0.0.1:${world.servicePort}`]);
        await untilVersion(url, "v1.0.1");
        await new Promise((r) => setTimeout(r, 200));
      })();
      manual.push(await load(url, switched));
      await old[Symbol.asyncDispose]();
    }
    // ysco: the whole update (download and verify first, then stop, switch, start).
    {
      await using world = await startWorld({ announced: ["v1.0.0"] });
      await world.configure('[monitor]\ndelay = "1h"\n');
      await world.startYsco();
      const url = `http://127.0.0.1:${world.servicePort}/`;
      const updated = world.admin(`/update?which=svc&version=v1.0.1&goversion=${GO}`, {
        method: "POST",
      })
        .then((r) => r.text());
      ysco.push(await load(url, updated));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const m = {
    gap: median(manual.map((d) => d.gapMs)),
    failed: median(manual.map((d) => d.failed)),
  };
  const y = { gap: median(ysco.map((d) => d.gapMs)), failed: median(ysco.map((d) => d.failed)) };
  printTable(`update: service downtime under load (median of ${ROUNDS})`, [
    "",
    "longest gap ms",
    "failed requests",
  ], [
    ["manual stop and start", m.gap.toFixed(1), m.failed],
    ["update by ysco", y.gap.toFixed(1), y.failed],
    ["ysco adds", (y.gap - m.gap).toFixed(1), y.failed - m.failed],
  ]);
  const ok = y.gap - m.gap < 50;
  console.log(
    verdict(ok, `ysco adds ${(y.gap - m.gap).toFixed(1)} ms of downtime (target < 50 ms)`),
  );
  return ok;
}
