/**
 * Benchmark: connections refused during updates, with and without process.listen,
 * in the same run. Clients hit the service one request after another, each on a
 * fresh connection; ysco updates it back and forth between v1.0.0 and v1.0.1
 * (POST /update), and for each update the failed requests and the longest window
 * of failures are counted. Also the cost of the shim that moves the sockets into
 * place: a spawn through it next to a plain spawn.
 *
 * Target: no failed request in any update with process.listen.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { createLogger } from "../src/log.ts";
import {
  closeListenSockets,
  prepareListenSockets,
  withInheritedSockets,
} from "../src/supervise/listen_sockets.ts";
import { shimCommandLine } from "../src/supervise/listen_shim.ts";
import { type LoadResult, startLoad } from "../tests/_load.ts";
import { freePort } from "../world/process.ts";
import { GO, startWorld } from "../world/world.ts";
import { printTable, verdict } from "./_measure.ts";

const UPDATES = Number(Deno.env.get("BENCH_LISTEN_UPDATES") ?? "4");
const CLIENTS = 2;
const SPAWNS = 100;

interface PerUpdate {
  failed: number;
  longestMs: number;
  slowestMs: number;
  requests: number;
}

/** Updates the service UPDATES times under load; the figures of each update. */
async function updatesUnderLoad(listen: boolean): Promise<PerUpdate[]> {
  await using world = await startWorld({ announced: ["v1.0.0", "v1.0.1"] });
  const port = world.servicePort;
  await world.configure(
    '[monitor]\ndelay = "1h"\n' +
      (listen ? `[process]\nlisten = ["tcp:127.0.0.1:${port}"]\n` : ""),
  );
  await world.startYsco();
  const out: PerUpdate[] = [];
  for (let i = 0; i < UPDATES; i++) {
    const version = i % 2 === 0 ? "v1.0.1" : "v1.0.0";
    const loads = Array.from({ length: CLIENTS }, () => startLoad({ port }, 1));
    const res = await world.admin(`/update?which=svc&version=${version}&goversion=${GO}`, {
      method: "POST",
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`update to ${version}: ${res.status} ${text}`);
    const results: LoadResult[] = await Promise.all(loads.map((l) => l.stop()));
    out.push({
      failed: results.reduce((n, r) => n + r.failed, 0),
      longestMs: Math.max(...results.map((r) => r.longestFailureMs)),
      slowestMs: Math.max(...results.map((r) => r.longestRequestMs)),
      requests: results.reduce((n, r) => n + r.requests, 0),
    });
  }
  return out;
}

/** Median ms of one spawn and wait of /bin/true, plain or through the shim with a socket. */
async function spawnMs(shim: boolean): Promise<number> {
  const sockets = shim
    ? await prepareListenSockets({
      entries: [`tcp:127.0.0.1:${freePort()}`],
      cmd: "bench",
      passed: [],
      log: createLogger({ write: () => {} }),
    })
    : [];
  try {
    const line = shim
      ? shimCommandLine({ program: "/bin/true", args: [] }, sockets.map((s) => s.fd))
      : { program: "/bin/true", args: [] };
    const times: number[] = [];
    for (let i = 0; i < SPAWNS; i++) {
      const t0 = performance.now();
      const child = withInheritedSockets(
        sockets,
        () => new Deno.Command(line.program, { args: line.args, env: { LISTEN_FDS: "1" } }).spawn(),
      );
      await child.status;
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] ?? 0;
  } finally {
    closeListenSockets(sockets);
  }
}

/** Runs the benchmark and prints its tables. */
export async function benchListen(): Promise<boolean> {
  const without = await updatesUnderLoad(false);
  const withListen = await updatesUnderLoad(true);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const row = (name: string, u: PerUpdate[]) => [
    name,
    median(u.map((x) => x.failed)),
    Math.max(...u.map((x) => x.failed)),
    median(u.map((x) => x.longestMs)).toFixed(1),
    Math.max(...u.map((x) => x.longestMs)).toFixed(1),
    median(u.map((x) => x.slowestMs)).toFixed(1),
    median(u.map((x) => x.requests)),
  ];
  printTable(
    `listen: refused connections per update (${UPDATES} updates each, ${CLIENTS} clients, a fresh connection per request)`,
    [
      "",
      "failed (median)",
      "failed (max)",
      "longest failing ms (median)",
      "(max)",
      "slowest request ms (median)",
      "requests",
    ],
    [row("service listens itself", without), row("process.listen", withListen)],
  );
  const [plain, shim] = [await spawnMs(false), await spawnMs(true)];
  printTable(`listen: cost of a spawn (median of ${SPAWNS}, /bin/true)`, ["", "ms"], [
    ["plain Deno.Command", plain.toFixed(2)],
    ["through the shim, one socket", shim.toFixed(2)],
    ["the shim adds", (shim - plain).toFixed(2)],
  ]);
  const failed = withListen.reduce((n, u) => n + u.failed, 0);
  const ok = failed === 0;
  console.log(
    verdict(
      ok,
      `${failed} failed requests in ${UPDATES} updates with process.listen (target 0), ` +
        `${without.reduce((n, u) => n + u.failed, 0)} without`,
    ),
  );
  return ok;
}
