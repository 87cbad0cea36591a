/**
 * Benchmark: a staged rollout over 200 simulated hosts (the real coordination code:
 * one EtcdGate with its own EtcdClient and lease per host, all in this process)
 * against a real three-member etcd cluster.
 *
 * 1. Rollout: every host updates to a new version with max_concurrent 10 and one
 *    canary; each update holds its slot for HOLD (install, health check). Compared
 *    with the ideal: the canary's update and soak, then ceil(199 / 10) waves of HOLD.
 *    Also: etcd requests per host per minute during the rollout and while idle
 *    (lease keep-alives only), next to one raw etcd transaction's latency.
 * 2. Failures: the next version fails on 5% of the hosts (never the canary). The
 *    first rollback halts the version; the history must show no install started
 *    after the halt, and every waiting host must learn of it.
 *
 * Targets: rollout within 1.25x the ideal; under 60 requests per host per minute
 * while rolling out; no install after a halt.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { EtcdClient } from "../src/fleet/etcd.ts";
import { targetName } from "../src/fleet/layout.ts";
import { canaries } from "../src/fleet/policy.ts";
import type { Release } from "../src/state/state.ts";
import { startEtcdCluster } from "../world/etcd.ts";
import { readHistory, replay, type SimHost, simHost, waitFor } from "../world/fleet_sim.ts";
import { printTable, verdict } from "./_measure.ts";

const HOSTS = 200;
const MAX = 10;
const CANARIES = 1;
const SOAK = 10_000;
const HOLD = 2000;
const LEASE_TTL = 10_000;
const FAILING = 0.05;

const V0: Release = { version: "v1.0.0", goVersion: "go1.23.4" };
const V1: Release = { version: "v1.1.0", goVersion: "go1.23.4" };
const V2: Release = { version: "v1.2.0", goVersion: "go1.23.4" };

/** Runs the benchmark and prints its tables. */
export async function benchFleet(): Promise<boolean> {
  await using cluster = await startEtcdCluster();
  const settings = {
    endpoints: cluster.endpoints,
    group: "bench",
    maxConcurrent: MAX,
    canaries: CANARIES,
    soak: SOAK,
    leaseTtl: LEASE_TTL,
    recheck: 30_000,
    retry: 500,
  };
  await using probe = new EtcdClient({ endpoints: cluster.endpoints });

  // Baseline: one transaction's round trip, the unit every coordination step costs.
  const rtts: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    await probe.txn({ compare: [], success: [{ put: { key: "/bench/probe", value: String(i) } }] });
    rtts.push(performance.now() - t0);
  }
  rtts.sort((a, b) => a - b);

  const hosts: SimHost[] = Array.from(
    { length: HOSTS },
    (_, i) => simHost(`host-${String(i).padStart(3, "0")}`, V0, settings),
  );
  try {
    await waitFor(
      async () =>
        (await probe.range("/ysco/fleet/bench/hosts/", { prefix: true, countOnly: true })).count ===
          HOSTS,
      () => "hosts registered",
      60_000,
    );
    const ids = hosts.map((h) => h.id);
    const [canary] = canaries(ids, CANARIES);
    const requests = () => hosts.reduce((n, h) => n + h.client.requests, 0);

    // 1. Rollout.
    let r0 = requests();
    let t0 = performance.now();
    const results = await Promise.all(hosts.map((h) => h.update(V1, { installMs: HOLD })));
    const rolloutMs = performance.now() - t0;
    const rolloutRequests = requests() - r0;
    const ideal = HOLD + SOAK + Math.ceil((HOSTS - CANARIES) / MAX) * HOLD;
    const h1 = replay(await readHistory(probe, settings.group), settings.group);
    const starts1 = h1.starts.filter((s) => targetName(s.target) === targetName(V1));
    const rulesOk = starts1[0]?.id === canary && h1.maxConcurrent <= MAX &&
      starts1.length === HOSTS && results.every((r) => r === "installed");

    // Idle: only keep-alives.
    r0 = requests();
    t0 = performance.now();
    await new Promise((r) => setTimeout(r, 20_000));
    const idleMin = (performance.now() - t0) / 60_000;
    const idleRate = (requests() - r0) / HOSTS / idleMin;
    const rolloutRate = rolloutRequests / HOSTS / (rolloutMs / 60_000);

    printTable(
      `fleet: rollout of ${HOSTS} hosts, max_concurrent ${MAX}, ${CANARIES} canary, soak ${
        SOAK / 1000
      } s, ${HOLD / 1000} s per update`,
      ["measure", "value"],
      [
        ["etcd txn round trip, median (baseline)", `${(rtts[100] ?? 0).toFixed(2)} ms`],
        ["ideal: canary + soak + waves x hold", `${(ideal / 1000).toFixed(1)} s`],
        ["rollout, measured", `${(rolloutMs / 1000).toFixed(1)} s`],
        ["rollout / ideal", `${(rolloutMs / ideal).toFixed(3)}`],
        ["most hosts updating at once", `${h1.maxConcurrent}`],
        ["etcd requests per host per minute, rolling out", rolloutRate.toFixed(1)],
        ["etcd requests per host per minute, idle", idleRate.toFixed(1)],
      ],
    );

    // 2. 5% of the hosts fail the next version.
    const failing = new Set(
      ids.filter((id) => id !== canary).filter((_, i) => i % Math.round(1 / FAILING) === 7),
    );
    const stop = new AbortController();
    t0 = performance.now();
    const outcomes = hosts.map((h) =>
      h.update(V2, { installMs: HOLD, fail: failing.has(h.id), signal: stop.signal })
        .catch(() => "waiting" as const)
    );
    // Wait until the version is halted and every host that has not settled knows it.
    const settled = new Set<string>();
    outcomes.forEach((p, i) => p.then(() => settled.add(hosts[i]?.id ?? "")));
    let haltSeenMs = 0;
    await waitFor(
      () => {
        const halted = hosts.some((h) => h.gate.status().waiting?.reason.startsWith("halted:"));
        if (halted && haltSeenMs === 0) haltSeenMs = performance.now();
        return halted &&
          hosts.every((h) =>
            settled.has(h.id) || h.gate.status().waiting?.reason.startsWith("halted:")
          );
      },
      () => "every waiting host halted",
      180_000,
    );
    const allKnowMs = performance.now();
    stop.abort(new Error("benchmark over"));
    const final = await Promise.all(outcomes);
    const events = await readHistory(probe, settings.group);
    const h2 = replay(events, settings.group);
    const name = targetName(V2);
    const haltRev = h2.halts.get(name)?.[0] ?? Infinity;
    const starts2 = h2.starts.filter((s) => targetName(s.target) === name);
    const lateStarts = starts2.filter((s) => s.revision > haltRev).length;
    const installed = final.filter((r) => r === "installed").length;
    const rolledBack = final.filter((r) => r === "rolled back").length;
    printTable(
      `fleet: the next version fails on ${failing.size} of ${HOSTS} hosts (${FAILING * 100}%)`,
      ["measure", "value"],
      [
        ["installs started before the halt", `${starts2.length - lateStarts}`],
        ["installs started after the halt", `${lateStarts}`],
        ["installed (healthy)", `${installed}`],
        ["rolled back", `${rolledBack}`],
        ["hosts left waiting on the halt", `${final.filter((r) => r === "waiting").length}`],
        [
          "halt known to every waiting host after",
          `${((allKnowMs - haltSeenMs) / 1000).toFixed(2)} s`,
        ],
        ["time to the halt", `${((haltSeenMs - t0) / 1000).toFixed(1)} s`],
      ],
    );

    const ok1 = rulesOk && rolloutMs <= 1.25 * ideal;
    const ok2 = rolloutRate < 60;
    const ok3 = lateStarts === 0 && rolledBack >= 1;
    console.log(
      "\n" + verdict(ok1, `rollout ${(rolloutMs / ideal).toFixed(2)}x the ideal (target <= 1.25x)`),
    );
    console.log(
      verdict(ok2, `${rolloutRate.toFixed(1)} requests per host per minute (target < 60)`),
    );
    console.log(verdict(ok3, `${lateStarts} installs after the halt (target 0)`));
    return ok1 && ok2 && ok3;
  } finally {
    await Promise.all(hosts.map((h) => h.gate.close()));
  }
}

if (import.meta.main) {
  Deno.exit((await benchFleet()) ? 0 : 1);
}
