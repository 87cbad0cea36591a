/**
 * Benchmark: what one discovery check costs by DNS (gopherwatch TXT records from a
 * real dnsmasq) and by the Go module proxy (real HTTP through a counting TCP relay),
 * side by side, for a module and for the Go toolchains: bytes sent and received
 * (DNS messages; HTTP requests and answers with headers, each over a new
 * connection as a check once a day makes them) and latency on loopback.
 *
 * The proxy's toolchain list is generated at its real shape and size (every Go
 * release since go1.21 for every platform, over 100 KB). Real proxies also cost a
 * TLS handshake, which loopback HTTP does not show, so the proxy figures are a lower
 * bound.
 *
 * Target: a whole DNS check (module + toolchains) under 1 KB on the wire.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

import { type Config, CONFIG_SCHEMA, type MonitorMethod } from "../src/config/config.ts";
import { defaultOf } from "../src/config/parse.ts";
import { queryTxt } from "../src/discover/dns_client.ts";
import { gopherwatchModuleName, gopherwatchToolchainName } from "../src/discover/gopherwatch.ts";
import { discoverModule, discoverToolchains } from "../src/discover/mod.ts";
import { startDnsmasq } from "../world/dnsmasq.ts";
import { startGoProxy } from "../world/goproxy_server.ts";
import { toolchainListText } from "../world/toolchain_list.ts";
import { printTable, verdict } from "./_measure.ts";

const RUNS = 40;
const MODULE = "github.com/mjl-/mox";
/** What gopherwatch serves for a module with two majors, and for the toolchains. */
const MODULE_RECORD = "v=v0.0.15 t=67a0c2e1; v=v0.0.14 t=66fa7e15";
const TOOLCHAIN_RECORD =
  "v=go1.25.5 k=cur t=69301b2c; v=go1.24.11 k=prev t=69301b2c; v=go1.26rc2 k=next t=695f4a10";
/** A module list of realistic length: 40 tagged releases. */
const MODULE_LIST = Array.from({ length: 40 }, (_, i) => `v0.0.${i + 1}`).join("\n") + "\n";

interface Cost {
  sent: number;
  received: number;
  medianMs: number;
}

/** Runs the benchmark and prints its table. */
export async function benchDiscover(): Promise<boolean> {
  const toolchainList = toolchainListText();
  await using dns = await startDnsmasq({
    txt: [
      [gopherwatchModuleName(MODULE, "l.gopherwatch.org"), [MODULE_RECORD]],
      [gopherwatchToolchainName("l.gopherwatch.org"), [TOOLCHAIN_RECORD]],
    ],
  });
  await using proxy = startGoProxy({
    files: {
      "github.com/mjl-/mox/@v/list": MODULE_LIST,
      "golang.org/toolchain/@v/list": toolchainList,
    },
  });
  await using relay = startRelay(Number(new URL(proxy.url).port));
  const base = defaultOf(CONFIG_SCHEMA.monitor) as Config["monitor"];
  const monitor = (methods: MonitorMethod[]): Config["monitor"] => ({
    ...base,
    methods,
    resolver: dns.address,
    goproxy: `http://127.0.0.1:${relay.port}/`,
  });
  const freshFetch: typeof fetch = async (input, init) => {
    // A new connection per request, as for a check once a day.
    using client = Deno.createHttpClient({});
    return await fetch(input, { ...init, client });
  };
  const dnsOpts = { monitor: monitor(["dns"]), newMajor: false };
  const proxyOpts = { monitor: monitor(["goproxy"]), newMajor: false, fetch: freshFetch };
  const fail = (method: MonitorMethod, err: unknown) => {
    throw new Error(`${method} failed in the benchmark: ${err}`);
  };

  const dnsModule = await measure(
    async () => {
      const a = await queryTxt(gopherwatchModuleName(MODULE, base.dns), {
        resolvers: [dns.address],
      });
      return { sent: a.bytesSent, received: a.bytesReceived };
    },
    () => discoverModule(MODULE, { ...dnsOpts, onMethodError: fail }),
  );
  const dnsToolchains = await measure(
    async () => {
      const a = await queryTxt(gopherwatchToolchainName(base.dns), { resolvers: [dns.address] });
      return { sent: a.bytesSent, received: a.bytesReceived };
    },
    () => discoverToolchains({ ...dnsOpts, onMethodError: fail }),
  );
  const proxyModule = await measure(
    () => relay.count(() => discoverModule(MODULE, { ...proxyOpts, onMethodError: fail })),
    () => discoverModule(MODULE, { ...proxyOpts, onMethodError: fail }),
  );
  const proxyToolchains = await measure(
    () => relay.count(() => discoverToolchains({ ...proxyOpts, onMethodError: fail })),
    () => discoverToolchains({ ...proxyOpts, onMethodError: fail }),
  );

  const row = (what: string, c: Cost) => [
    what,
    c.sent,
    c.received,
    c.sent + c.received,
    c.medianMs.toFixed(2),
  ];
  const dnsCheck = dnsModule.sent + dnsModule.received + dnsToolchains.sent +
    dnsToolchains.received;
  const proxyCheck = proxyModule.sent + proxyModule.received + proxyToolchains.sent +
    proxyToolchains.received;
  printTable(
    `discover: one lookup by method, loopback, median of ${RUNS} (toolchain list by proxy ${
      (toolchainList.length / 1024).toFixed(0)
    } KiB, ${MODULE_LIST.split("\n").length - 1} versions in the module list)`,
    ["lookup", "sent B", "received B", "total B", "latency ms"],
    [
      row("module by DNS", dnsModule),
      row("module by proxy", proxyModule),
      row("toolchains by DNS", dnsToolchains),
      row("toolchains by proxy", proxyToolchains),
      [
        "whole check by DNS",
        "",
        "",
        dnsCheck,
        (dnsModule.medianMs + dnsToolchains.medianMs).toFixed(2),
      ],
      [
        "whole check by proxy",
        "",
        "",
        proxyCheck,
        (proxyModule.medianMs + proxyToolchains.medianMs).toFixed(2),
      ],
    ],
  );
  const ok = dnsCheck < 1024;
  console.log(
    verdict(
      ok,
      `a whole DNS check is ${dnsCheck} bytes on the wire, ${
        (proxyCheck / dnsCheck).toFixed(0)
      }x less than by proxy (${proxyCheck} bytes) (target < 1024 bytes)`,
    ),
  );
  return ok;
}

/** Bytes of one run, and the median latency of RUNS runs after a warm-up. */
async function measure(
  bytes: () => Promise<{ sent: number; received: number }>,
  run: () => Promise<unknown>,
): Promise<Cost> {
  const { sent, received } = await bytes();
  for (let i = 0; i < 5; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { sent, received, medianMs: times[Math.floor(times.length / 2)] ?? 0 };
}

interface Relay extends AsyncDisposable {
  port: number;
  /** Bytes that went through while fn ran: client to server, server to client. */
  count(fn: () => Promise<unknown>): Promise<{ sent: number; received: number }>;
}

/** A TCP relay on 127.0.0.1 to a local port that counts the bytes in each direction. */
function startRelay(targetPort: number): Relay {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const totals = { up: 0, down: 0 };
  const open = new Set<Promise<void>>();
  const counting = (key: "up" | "down") =>
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        totals[key] += chunk.length;
        controller.enqueue(chunk);
      },
    });
  const serve = async (conn: Deno.TcpConn) => {
    const upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    await Promise.allSettled([
      conn.readable.pipeThrough(counting("up")).pipeTo(upstream.writable),
      upstream.readable.pipeThrough(counting("down")).pipeTo(conn.writable),
    ]);
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const p = serve(conn).catch(() => {});
        open.add(p);
        p.finally(() => open.delete(p));
      }
    } catch {
      // listener closed
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async count(fn) {
      const before = { ...totals };
      await fn();
      return { sent: totals.up - before.up, received: totals.down - before.down };
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await Promise.allSettled([...open]);
    },
  };
}
