/**
 * The world of an end-to-end test: every outside service ysco talks to, stood up on
 * 127.0.0.1 as real servers speaking the real protocols, and a deployment of the
 * real Go test service run by a real `ysco run`.
 *
 * - gopherwatch DNS: dnsmasq serving the module and toolchain TXT records; a new
 *   version is "published" by restarting it with new records on the same port.
 * - the Go module proxy: the proxy directory of world/go.ts over HTTP.
 * - gobuild: the test gobuild server, its log holding real builds of the service.
 *
 * @module
 */

import { join } from "node:path";
import { goBuild, goProxyDir, type GoToolchain, run, TESTSVC, TESTSVC_VERSIONS } from "./go.ts";
import { type Dnsmasq, startDnsmasq } from "./dnsmasq.ts";
import { type GobuildServer, startGobuildServer, TEST_VERIFIER_KEY } from "./gobuild_server.ts";
import { type GoProxyServer, startGoProxy } from "./goproxy_server.ts";
import { freePort, httpText, poll, Proc, processesUnder, startYsco } from "./process.ts";
import { type AdminClient, adminClient, installService, writeYsDir } from "./service.ts";
import { testsvcSpec } from "./tlog_fixture.ts";
import { type TempDir, tempDir } from "./util.ts";

/** Go version of the builds (Debian's Go 1.23). */
export const GO = "go1.23.5";
/** Go version of the Go 1.19 builds. */
export const GO_OLD = "go1.19.8";

const MODULE_NAME = "testsvc._.example.com.v0.l.gopherwatch.org";
const TOOLCHAIN_NAME = "toolchain.v0.l.gopherwatch.org";

/** Options for startWorld. */
export interface WorldOptions {
  /** Version of the service installed at the start. @default "v1.0.0" */
  version?: string;
  /** Toolchain it is built with. @default "1.23" */
  go?: GoToolchain;
  /** Versions gopherwatch announces at the start. @default ["v1.0.0"] */
  announced?: string[];
  /** Install the service as a regular file instead of a symlink. */
  noSymlink?: boolean;
  /**
   * Put the world's directory on a tmpfs of its own, mounted with these options (e.g.
   * "size=64m,nr_inodes=40"), for tests of a full disk. Needs root.
   */
  tmpfs?: string;
}

/** A running world. */
export interface World extends AsyncDisposable, AdminClient {
  dir: string;
  /** The service as ysco runs it: "./testsvc". */
  cmd: string;
  /** Port the service listens on. */
  servicePort: number;
  /** Port of ysco's admin and metrics server. */
  adminPort: number;
  dns: Dnsmasq;
  proxy: GoProxyServer;
  gobuild: GobuildServer;
  /** The base configuration (TOML) pointing at the world's services. */
  baseConfig: string;
  /** Announces versions through gopherwatch DNS (the newest per major counts). */
  announce(versions: string[]): Promise<void>;
  /** Writes ys/ysco.toml: the base configuration plus extra TOML (appended into [update] etc.). */
  configure(extra?: string): Promise<void>;
  /**
   * Starts `ysco run` and waits until the service answers; flags replace the default
   * `-addr 127.0.0.1:ADMINPORT`.
   */
  startYsco(env?: Record<string, string>, flags?: string[], program?: string): Promise<Proc>;
  /** What the service answers on "/" (module, version, Go version), or undefined. */
  serviceVersion(): Promise<string | undefined>;
  /** Waits until the service answers with version and goVersion. */
  waitForVersion(version: string, goVersion?: string, timeoutMs?: number): Promise<void>;
  /** The current ysco process. */
  ysco: Proc | undefined;
}

/** Starts the world; `await using` stops ysco, the service and every server. */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const tmp: TempDir = await tempDir("ysco-world-");
  if (options.tmpfs !== undefined) {
    await run("mount", ["-t", "tmpfs", "-o", options.tmpfs, "tmpfs", tmp.path]);
  }
  await Deno.chmod(tmp.path, 0o755);
  const version = options.version ?? "v1.0.0";
  const cmd = await installService(tmp.path, { version, go: options.go ?? "1.23" }, {
    symlink: !options.noSymlink,
  });
  const gobuild = await startGobuildServer();
  for (const v of TESTSVC_VERSIONS) {
    await gobuild.addBuild(testsvcSpec(v), await goBuild({ version: v }));
    await gobuild.addBuild(
      { ...testsvcSpec(v), goversion: GO_OLD },
      await goBuild({ version: v, go: "1.19" }),
    );
  }
  const proxy = startGoProxy({ dir: await goProxyDir() });
  const records = (versions: string[]): Array<[string, string[]]> => [
    [MODULE_NAME, [
      versions.map((v) => `v=${v} t=${(0x66000000 + versions.indexOf(v)).toString(16)}`).join("; "),
    ]],
    [TOOLCHAIN_NAME, [`v=${GO} k=cur t=66000000; v=go1.22.12 k=prev t=66000000`]],
  ];
  let dns = await startDnsmasq({ txt: records(options.announced ?? ["v1.0.0"]) });
  const servicePort = freePort();
  const adminPort = freePort();
  const baseConfig = 'auth_file = "ys/password.txt"\n' + sourcesConfig(dns, proxy, gobuild);
  const world: World = {
    ...adminClient(adminPort),
    dir: tmp.path,
    cmd,
    servicePort,
    adminPort,
    get dns() {
      return dns;
    },
    proxy,
    gobuild,
    baseConfig,
    ysco: undefined,
    async announce(versions) {
      const port = dns.port;
      await dns[Symbol.asyncDispose]();
      dns = await startDnsmasq({ txt: records(versions), port });
    },
    async configure(extra = "") {
      await writeYsDir(tmp.path, mergeToml(baseConfig, extra));
    },
    async startYsco(env = {}, flags = ["-addr", `127.0.0.1:${adminPort}`], program?: string) {
      const args = ["run", ...flags, cmd, "-addr", `127.0.0.1:${servicePort}`];
      const proc = program === undefined
        ? startYsco(args, { cwd: tmp.path, env })
        : new Proc(program, args, { cwd: tmp.path, env });
      world.ysco = proc;
      await poll("the service answering", () => world.serviceVersion(), 30_000);
      await poll(
        "the admin server answering",
        () => httpText(`http://127.0.0.1:${adminPort}/service-version`),
        30_000,
      );
      return proc;
    },
    serviceVersion: () => httpText(`http://127.0.0.1:${servicePort}/`),
    async waitForVersion(v, goVersion = GO, timeoutMs = 60_000) {
      const want = `${TESTSVC} ${v} ${goVersion}\n`;
      await poll(
        `the service answering ${v} ${goVersion}`,
        async () => (await world.serviceVersion()) === want ? true : undefined,
        timeoutMs,
      );
    },
    async [Symbol.asyncDispose]() {
      await world.ysco?.[Symbol.asyncDispose]();
      // ysco must not leave a service behind: after it exits, none may still run here.
      const left = await poll("the services of ysco gone", () => {
        const alive = processesUnder(tmp.path);
        return alive.length === 0 ? [] : undefined;
      }, 10_000).catch(() => processesUnder(tmp.path));
      for (const pid of left) Deno.kill(pid, "SIGKILL");
      if (left.length > 0) {
        throw new Error(
          `ysco left processes running: ${left.join(", ")}\n${world.ysco?.output() ?? ""}`,
        );
      }
      // A test may have stopped some of these already.
      for (const resource of [dns, proxy, gobuild]) {
        await Promise.resolve(resource[Symbol.asyncDispose]()).catch(() => {});
      }
      if (options.tmpfs !== undefined) await run("umount", ["-l", tmp.path]);
      await tmp[Symbol.asyncDispose]();
    },
  };
  return world;
}

/**
 * The configuration (TOML) that points ysco at the world's servers, for quick tests:
 * discovery by DNS, checks at once, updates at once, a short stop timeout.
 */
export function sourcesConfig(dns: Dnsmasq, proxy: GoProxyServer, gobuild: GobuildServer): string {
  return `log_level = "debug"
[monitor]
methods = ["dns"]
resolver = "${dns.address}"
goproxy = "${proxy.url}"
delay = "0s"
interval = "1h"
[policy]
service = "patch"
[gobuild]
verifier_key = "${TEST_VERIFIER_KEY}"
base_url = "${gobuild.tlogUrl}"
[update]
delay = "0s"
jitter = "0s"
stop_timeout = "5s"
`;
}

/** Reads ys/state.json of a world. */
export async function readWorldState(world: World): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(join(world.dir, "ys", "state.json")));
}

/**
 * Merges TOML: lines of extra under a [table] header go into that table of base
 * (appended to it), so tests can override single keys.
 */
export function mergeToml(base: string, extra: string): string {
  const tables = new Map<string, string[]>();
  let table = "";
  const order: string[] = [""];
  const add = (text: string) => {
    table = "";
    for (const line of text.split("\n")) {
      const header = /^\[([a-z_.]+)\]\s*$/.exec(line.trim());
      if (header) {
        table = header[1] ?? "";
        if (!tables.has(table)) {
          tables.set(table, []);
          order.push(table);
        }
        continue;
      }
      if (line.trim() === "") continue;
      const lines = tables.get(table) ?? [];
      const key = /^([a-z_]+)\s*=/.exec(line.trim())?.[1];
      const i = key === undefined
        ? -1
        : lines.findIndex((l) => l.trim().startsWith(`${key} `) || l.trim().startsWith(`${key}=`));
      if (i >= 0) lines[i] = line;
      else lines.push(line);
      tables.set(table, lines);
    }
  };
  add(base);
  add(extra);
  return order.map((t) => (t === "" ? "" : `[${t}]\n`) + (tables.get(t) ?? []).join("\n")).join(
    "\n",
  ) + "\n";
}
