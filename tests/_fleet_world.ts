/**
 * The world of an end-to-end fleet test: a three-member etcd cluster, the servers of
 * world/world.ts (gopherwatch DNS on dnsmasq, the module proxy, the test gobuild
 * server with real builds) shared by several hosts, and per host a deployment
 * directory of the real Go test service with its own ports, `ys/ysco.toml` with a
 * `[fleet]` table, and its own real `ysco run`.
 *
 * Hosts discover new versions the way a fleet does: the versions are announced once
 * through DNS, and every ysco is told to look (its /notify webhook).
 *
 * @module
 */

import { join } from "node:path";
import type { Release } from "../src/state/state.ts";
import { type EtcdCluster, startEtcdCluster } from "../world/etcd.ts";
import { type Dnsmasq, startDnsmasq } from "../world/dnsmasq.ts";
import { goBuild, goProxyDir, TESTSVC } from "../world/go.ts";
import { type GobuildServer, startGobuildServer } from "../world/gobuild_server.ts";
import { type GoProxyServer, startGoProxy } from "../world/goproxy_server.ts";
import {
  freePort,
  httpText,
  poll,
  type Proc,
  processesUnder,
  startYsco,
} from "../world/process.ts";
import { type AdminClient, adminClient, installService, writeYsDir } from "../world/service.ts";
import { type Output, type TempDir, tempDir, ysco } from "../world/util.ts";
import { GO, mergeToml, sourcesConfig } from "../world/world.ts";
import { testsvcSpec } from "../world/tlog_fixture.ts";
import { EtcdClient } from "../src/fleet/etcd.ts";

export { GO };

const MODULE_NAME = "testsvc._.example.com.v0.l.gopherwatch.org";
const TOOLCHAIN_NAME = "toolchain.v0.l.gopherwatch.org";

/** Options for startFleetWorld. */
export interface FleetWorldOptions {
  /** Number of hosts, with ids host-1, host-2, ... */
  hosts: number;
  /** Fleet group. @default "web" */
  group?: string;
  /** Extra TOML for every host (`[fleet]` keys and others), merged into the base. */
  config?: string;
  /** Versions built into the gobuild log. @default ["v1.0.0", "v1.0.1", "v1.1.0"] */
  builds?: string[];
}

/** One host: a deployment directory, its service and its ysco. */
export interface FleetHost extends AdminClient<HostJson> {
  id: string;
  dir: string;
  servicePort: number;
  adminPort: number;
  /** The running ysco, if started. */
  ysco: Proc | undefined;
  /** Starts `ysco run` with env (passed on to the service) and waits until both answer. */
  start(env?: Record<string, string>): Promise<Proc>;
  /** What the service answers on "/", or undefined. */
  serviceVersion(): Promise<string | undefined>;
  /** Waits until the service answers with version (Go GO). */
  waitForVersion(version: string, timeoutMs?: number): Promise<void>;
  /** Waits until no update is in progress (the last one has ended) and returns /json. */
  idle(timeoutMs?: number): Promise<HostJson>;
  /** GET /metrics as text. */
  metrics(): Promise<string>;
  /** ys/state.json. */
  state(): Promise<Record<string, unknown>>;
}

/** The parts of /json the fleet tests read. */
export interface HostJson {
  SvcVersion: string;
  Pid: number;
  PauseReason: string;
  Busy: { phase: string; version: string } | null;
  Fleet: {
    connected: boolean;
    error?: { message: string };
    waiting?: Release & { reason: string; halt?: { by: string; reason: string } };
    holding?: Release;
    counters: { slots: number; halts: number; errors: number };
  } | null;
}

/** A running fleet world. */
export interface FleetWorld extends AsyncDisposable {
  cluster: EtcdCluster;
  group: string;
  hosts: FleetHost[];
  dns: Dnsmasq;
  proxy: GoProxyServer;
  gobuild: GobuildServer;
  /** Announces versions through gopherwatch DNS. */
  announce(versions: string[]): Promise<void>;
  /** Makes every running ysco check for updates soon (its /notify webhook, at most once per 10s). */
  notifyAll(): Promise<void>;
  /** Makes every running ysco check for updates now (the admin form), and waits for the checks. */
  checkAll(): Promise<void>;
  /** Starts every host's ysco and waits until all are registered in the group. */
  startAll(env?: (host: FleetHost) => Record<string, string>): Promise<void>;
  /** Runs `ysco fleet ARGS -dir ys` in a host's directory (default the first host). */
  fleet(args: string[], host?: FleetHost): Promise<Output>;
  /** The host with this id. */
  host(id: string): FleetHost;
}

/** Starts the servers and prepares the hosts (their yscos are not started yet). */
export async function startFleetWorld(options: FleetWorldOptions): Promise<FleetWorld> {
  const group = options.group ?? "web";
  const cleanup: Array<() => PromiseLike<void> | void> = [];
  const hosts: FleetHost[] = [];
  const dispose = async () => {
    // Every ysco first (in parallel), then any service a killed ysco left behind.
    await Promise.all(hosts.map(async (h) => {
      await h.ysco?.[Symbol.asyncDispose]();
      for (const pid of processesUnder(h.dir)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    }));
    for (const fn of cleanup.reverse()) await Promise.resolve(fn()).catch(() => {});
  };
  try {
    const cluster = await startEtcdCluster();
    cleanup.push(() => cluster[Symbol.asyncDispose]());
    const gobuild = await startGobuildServer();
    cleanup.push(() => gobuild[Symbol.asyncDispose]());
    for (const v of options.builds ?? ["v1.0.0", "v1.0.1", "v1.1.0"]) {
      await gobuild.addBuild(testsvcSpec(v), await goBuild({ version: v }));
    }
    const proxy = startGoProxy({ dir: await goProxyDir() });
    cleanup.push(() => proxy[Symbol.asyncDispose]());
    let dns = await startDnsmasq({ txt: records(["v1.0.0"]) });
    cleanup.push(() => dns[Symbol.asyncDispose]());

    const base = sourcesConfig(dns, proxy, gobuild) + `[fleet]
etcd = ${JSON.stringify(cluster.endpoints)}
group = "${group}"
`;
    for (let i = 1; i <= options.hosts; i++) {
      const tmp: TempDir = await tempDir(`ysco-fleet-host${i}-`);
      cleanup.push(() => tmp[Symbol.asyncDispose]());
      await Deno.chmod(tmp.path, 0o755);
      const host = await prepareHost(`host-${i}`, tmp.path);
      await writeYsDir(
        host.dir,
        mergeToml(base, `[fleet]\nid = "${host.id}"\n${options.config ?? ""}`),
      );
      hosts.push(host);
    }

    const world: FleetWorld = {
      cluster,
      group,
      hosts,
      get dns() {
        return dns;
      },
      proxy,
      gobuild,
      async announce(versions) {
        const port = dns.port;
        await dns[Symbol.asyncDispose]();
        dns = await startDnsmasq({ txt: records(versions), port });
      },
      async notifyAll() {
        await Promise.all(
          hosts.filter((h) => h.ysco).map(async (h) => {
            const res = await fetch(`http://127.0.0.1:${h.adminPort}/notify`, { method: "POST" });
            await res.body?.cancel();
            if (!res.ok) throw new Error(`POST /notify on ${h.id}: status ${res.status}`);
          }),
        );
      },
      async checkAll() {
        await Promise.all(
          hosts.filter((h) => h.ysco).map(async (h) => {
            const res = await h.postForm({ command: "check" });
            await res.body?.cancel();
            if (res.status !== 303) throw new Error(`check on ${h.id}: status ${res.status}`);
          }),
        );
      },
      async startAll(env = () => ({})) {
        await Promise.all(hosts.map((h) => h.start(env(h))));
        await using client = new EtcdClient({ endpoints: cluster.endpoints });
        await poll(`${hosts.length} hosts registered in group ${group}`, async () => {
          const { count } = await client.range(`/ysco/fleet/${group}/hosts/`, {
            prefix: true,
            countOnly: true,
          });
          return count === hosts.length ? true : undefined;
        }, 60_000);
      },
      fleet(args, host = hosts[0]) {
        if (host === undefined) throw new Error("no hosts");
        return ysco(["fleet", ...args, "-dir", "ys"], { cwd: host.dir });
      },
      host(id) {
        const h = hosts.find((h) => h.id === id);
        if (h === undefined) throw new Error(`no host ${id}`);
        return h;
      },
      [Symbol.asyncDispose]: dispose,
    };
    return world;
  } catch (err) {
    await dispose();
    throw err;
  }
}

function records(versions: string[]): Array<[string, string[]]> {
  return [
    [MODULE_NAME, [
      versions.map((v, i) => `v=${v} t=${(0x66000000 + i).toString(16)}`).join("; "),
    ]],
    [TOOLCHAIN_NAME, [`v=${GO} k=cur t=66000000; v=go1.22.12 k=prev t=66000000`]],
  ];
}

async function prepareHost(id: string, dir: string): Promise<FleetHost> {
  const cmd = await installService(dir, { version: "v1.0.0" });
  const servicePort = freePort();
  const adminPort = freePort();
  const host: FleetHost = {
    ...adminClient<HostJson>(adminPort, id),
    id,
    dir,
    servicePort,
    adminPort,
    ysco: undefined,
    async start(env = {}) {
      const proc = startYsco(
        ["run", "-addr", `127.0.0.1:${adminPort}`, cmd, "-addr", `127.0.0.1:${servicePort}`],
        { cwd: dir, env },
      );
      host.ysco = proc;
      await poll(`${id}: the service answering`, () => host.serviceVersion(), 60_000);
      await poll(
        `${id}: the admin server answering`,
        () => httpText(`http://127.0.0.1:${adminPort}/service-version`),
        60_000,
      );
      return proc;
    },
    serviceVersion: () => httpText(`http://127.0.0.1:${servicePort}/`),
    async waitForVersion(version, timeoutMs = 120_000) {
      const want = `${TESTSVC} ${version} ${GO}\n`;
      await poll(
        `${id}: the service answering ${version}`,
        async () => (await host.serviceVersion()) === want ? true : undefined,
        timeoutMs,
      );
    },
    async idle(timeoutMs = 120_000) {
      return await poll(`${id}: no update in progress`, async () => {
        const s = await host.status();
        return s.Busy === null ? s : undefined;
      }, timeoutMs);
    },
    async metrics() {
      const res = await host.admin("/metrics");
      if (!res.ok) throw new Error(`${id}: GET /metrics: ${res.status}`);
      return await res.text();
    },
    async state() {
      return JSON.parse(await Deno.readTextFile(join(dir, "ys", "state.json")));
    },
  };
  return host;
}
