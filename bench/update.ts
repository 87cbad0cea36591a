/**
 * Benchmark: an update as the service's clients and its operator see it, each next to
 * the same steps done by hand in the same run.
 *
 * - Switch: a load generator hits the service throughout an update (a request at a
 *   time, each on a new connection); the switch gap (from the old version's last
 *   answer to the new one's first) and the failed requests, for an update by ysco
 *   next to a manual stop-and-start of the same two binaries. Targets: both at most
 *   1.1x the manual ones (medians). The longest gap between any two answers is shown
 *   too: it includes the time ysco downloads and verifies beside the service.
 * - Exit to spawn: the time between ysco seeing the old version's exit and its
 *   spawn of the new one, from ysco's log. Target: at most 5 ms.
 * - A 110 MB release end to end: from the request (POST /update) to the new version
 *   answering, next to the same steps by hand: curl | gunzip | sha256sum into a
 *   file, stop, rename, start. Target: at most 1.5x.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { copyProxy, goBuild, publishTestsvc, run, TESTSVC } from "../world/go.ts";
import { Proc } from "../world/process.ts";
import { testsvcSpec } from "../world/tlog_fixture.ts";
import { GO, startWorld } from "../world/world.ts";
import { median, printTable, verdict } from "./_measure.ts";
import { updateSizedBinary } from "./_big_binary.ts";

const ROUNDS = 5;

interface Downtime {
  /** From the last answer of the old version to the first of the new one. */
  switchMs: number;
  /** The longest time between two successful answers, anywhere in the update. */
  longestMs: number;
  failed: number;
  requests: number;
}

/**
 * Hits url until stop resolves, one request at a time; the switch is the time between
 * the last answer naming `from` and the first naming `to`.
 */
async function load(
  url: string,
  stop: Promise<unknown>,
  from: string,
  to: string,
): Promise<Downtime> {
  let done = false;
  stop.then(() => done = true);
  let last = performance.now();
  let lastFrom = 0;
  let firstTo = 0;
  let longest = 0;
  let failed = 0;
  let requests = 0;
  while (!done) {
    requests++;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      if (!res.ok) throw new Error(String(res.status));
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      if (text.includes(` ${from} `)) lastFrom = now;
      else if (text.includes(` ${to} `) && firstTo === 0) firstTo = now;
    } catch {
      failed++;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  return { switchMs: firstTo - lastFrom, longestMs: longest, failed, requests };
}

async function untilVersion(url: string, version: string): Promise<void> {
  for (;;) {
    try {
      if ((await (await fetch(url)).text()).includes(version)) return;
    } catch {
      // restarting
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The switch: downtime under load and ysco's exit-to-spawn time. */
export async function benchSwitch(): Promise<boolean> {
  const manual: Downtime[] = [];
  const ysco: Downtime[] = [];
  const exitToSpawn: number[] = [];
  const [v0, v1] = [await goBuild({ version: "v1.0.0" }), await goBuild({ version: "v1.0.1" })];

  for (let round = 0; round < ROUNDS; round++) {
    // Baseline: the steps by hand, as a shell script does them: stop the old binary
    // with SIGTERM, wait for it, start the new one (in the script's process group).
    {
      await using world = await startWorld();
      const url = `http://127.0.0.1:${world.servicePort}/`;
      const script = 'old="$1"; new="$2"; "$old" -addr "$3" & pid=$!; read -r go; ' +
        'kill -TERM "$pid"; wait "$pid"; exec "$new" -addr "$3"';
      const shell = new Deno.Command("/bin/bash", {
        args: ["-c", script, "manual", v0, v1, `127.0.0.1:${world.servicePort}`],
        stdin: "piped",
        stdout: "null",
        stderr: "null",
        detached: true,
      }).spawn();
      await untilVersion(url, "v1.0.0");
      const switched = (async () => {
        await new Promise((r) => setTimeout(r, 200));
        const go = shell.stdin.getWriter();
        await go.write(new TextEncoder().encode("go\n"));
        await untilVersion(url, "v1.0.1");
        await new Promise((r) => setTimeout(r, 200));
        await go.close();
      })();
      manual.push(await load(url, switched, "v1.0.0", "v1.0.1"));
      Deno.kill(-shell.pid, "SIGKILL");
      await shell.status;
    }
    // ysco: the whole update (download and verify first, then stop, switch, start).
    {
      await using world = await startWorld({ announced: ["v1.0.0"] });
      await world.configure('[monitor]\ndelay = "1h"\n');
      const proc = await world.startYsco();
      const url = `http://127.0.0.1:${world.servicePort}/`;
      const updated = world.admin(`/update?which=svc&version=v1.0.1&goversion=${GO}`, {
        method: "POST",
      }).then((r) => r.text());
      ysco.push(await load(url, updated, "v1.0.0", "v1.0.1"));
      const m = await proc.waitFor(
        /msg="new version started, watching it" .*exittospawn=([\d.]+)ms/,
      );
      exitToSpawn.push(Number(m[1]));
    }
  }
  const stats = (ds: Downtime[]) => ({
    gap: median(ds.map((d) => d.switchMs)),
    longest: median(ds.map((d) => d.longestMs)),
    failed: median(ds.map((d) => d.failed)),
  });
  const m = stats(manual);
  const y = stats(ysco);
  const spawn = median(exitToSpawn);
  const ratio = (a: number, b: number) => b === 0 ? (a === 0 ? 1 : Infinity) : a / b;
  printTable(`update: the switch under load (median of ${ROUNDS})`, [
    "",
    "switch gap ms",
    "failed requests",
    "exit to spawn ms",
    "longest gap ms",
  ], [
    ["manual stop and start", m.gap.toFixed(1), m.failed, "-", m.longest.toFixed(1)],
    ["update by ysco", y.gap.toFixed(1), y.failed, spawn.toFixed(2), y.longest.toFixed(1)],
    ["ratio", ratio(y.gap, m.gap).toFixed(2), ratio(y.failed, m.failed).toFixed(2), "", ""],
  ]);
  console.log(
    "  (switch gap: from the old version's last answer to the new one's first; longest gap:\n" +
      "  between any two answers, also while ysco downloads and verifies beside the service)",
  );
  const gapOk = y.gap <= m.gap * 1.1 || y.gap - m.gap < 1;
  const failedOk = y.failed <= Math.ceil(m.failed * 1.1);
  const spawnOk = spawn <= 5;
  console.log(
    verdict(gapOk, `switch gap ${ratio(y.gap, m.gap).toFixed(2)}x the manual one (target <= 1.1x)`),
  );
  console.log(
    verdict(failedOk, `${y.failed} failed requests, manual ${m.failed} (target <= 1.1x)`),
  );
  console.log(verdict(spawnOk, `exit to spawn ${spawn.toFixed(2)} ms (target <= 5 ms)`));
  return gapOk && failedOk && spawnOk;
}

/** A test service release of about 110 MB (it embeds machine code), cached in bench/.cache. */
async function bigRelease(): Promise<{ version: string; binary: string }> {
  const version = "v1.0.2";
  const proxy = fileURLToPath(new URL(".cache/big-proxy", import.meta.url));
  await Deno.mkdir(join(proxy, ".."), { recursive: true });
  const listed = await Deno.readTextFile(join(proxy, TESTSVC, "@v", "list")).catch(() => "");
  if (!listed.includes(version)) {
    await Deno.remove(proxy, { recursive: true }).catch(() => {});
    await copyProxy(proxy);
    const blob = await Deno.readFile(await updateSizedBinary());
    await publishTestsvc(proxy, TESTSVC, version, new Date("2026-01-10T00:00:00Z"), {
      go: "1.16",
      files: {
        "cmd/testsvc/blob.bin": blob,
        "cmd/testsvc/blob.go":
          'package main\n\nimport _ "embed"\n\n//go:embed blob.bin\nvar blob []byte\n\nfunc init() {\n\tif len(blob) == 0 {\n\t\tpanic("no blob")\n\t}\n}\n',
      },
    });
  }
  return { version, binary: await goBuild({ version, proxyDir: proxy }) };
}

/** A 110 MB update from request to answer, by ysco and by hand. */
async function benchBigUpdate(): Promise<boolean> {
  const big = await bigRelease();
  const size = (await Deno.stat(big.binary)).size;
  const byHand: number[] = [];
  const byYsco: number[] = [];
  for (let round = 0; round < 3; round++) {
    await using world = await startWorld({ announced: ["v1.0.0"] });
    const added = await world.gobuild.addBuild(testsvcSpec(big.version), big.binary);
    const url = `http://127.0.0.1:${world.servicePort}/`;
    // By hand: download, decompress and hash into a file; stop; rename; start.
    {
      const dir = await Deno.makeTempDir({ prefix: "ysco-bench-hand-" });
      let old = new Proc(join(world.dir, "testsvc"), ["-addr", `127.0.0.1:${world.servicePort}`]);
      await untilVersion(url, "v1.0.0");
      const t0 = performance.now();
      const file = join(dir, "testsvc-new");
      await run("bash", [
        "-c",
        `set -o pipefail; curl -sf '${added.url}' | gunzip | tee '${file}.tmp' | sha256sum >/dev/null`,
      ]);
      await Deno.chmod(`${file}.tmp`, 0o755);
      old.kill("SIGTERM");
      await old.status;
      await Deno.rename(`${file}.tmp`, file);
      old = new Proc(file, ["-addr", `127.0.0.1:${world.servicePort}`]);
      await untilVersion(url, big.version);
      byHand.push(performance.now() - t0);
      await old[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    }
    // By ysco: POST /update, until the new version answers.
    {
      await world.configure('[monitor]\ndelay = "1h"\n');
      await world.startYsco();
      const t0 = performance.now();
      const answer = world.admin(`/update?which=svc&version=${big.version}&goversion=${GO}`, {
        method: "POST",
      }).then((r) => r.text());
      await untilVersion(url, big.version);
      byYsco.push(performance.now() - t0);
      await answer;
    }
  }
  const hand = median(byHand);
  const ysco = median(byYsco);
  printTable(`update: a ${(size / 1e6).toFixed(0)} MB release, request to answer (median of 3)`, [
    "",
    "ms",
  ], [
    ["by hand: curl | gunzip | sha256sum, stop, rename, start", hand.toFixed(0)],
    ["by ysco: verified through the log, switched, started", ysco.toFixed(0)],
    ["ratio", (ysco / hand).toFixed(2)],
  ]);
  const ok = ysco <= hand * 1.5;
  console.log(
    verdict(ok, `ysco takes ${(ysco / hand).toFixed(2)}x the steps by hand (target <= 1.5x)`),
  );
  return ok;
}

/** Runs the benchmark and prints its tables. */
export async function benchUpdate(): Promise<boolean> {
  const a = await benchSwitch();
  const b = await benchBigUpdate();
  return a && b;
}
