/**
 * `ysco run`: the wiring. Loads the configuration and state, checks the service
 * binary and the user it runs as, sets up metrics, fleet coordination and the web
 * servers, and hands the service to the updater, which runs it, keeps it up to date
 * and says when ysco exits (with the service's exit code).
 *
 * @module
 */

import { isAbsolute, join, resolve } from "node:path";
import { type BuildInfo, BuildInfoError, readBuildInfo } from "./buildinfo/mod.ts";
import type { Config } from "./config/config.ts";
import { loadConfig } from "./config/load.ts";
import { ConfigError } from "./config/parse.ts";
import { errorMessage, UsageError } from "./errors.ts";
import { hostPortProblem, parseHostPort } from "./host_port.ts";
import { createLogger, type Logger } from "./log.ts";
import { SELF_ENV } from "./self/self_path.ts";
import { readState, type State, StateError } from "./state/state.ts";
import {
  checkAccess,
  type Credentials,
  parseCapabilities,
  pathsToCheck,
  resolveCredentials,
} from "./supervise/credentials.ts";
import {
  type ListenSocket,
  type PassedSocket,
  prepareListenSockets,
  takePassedSockets,
} from "./supervise/listen_sockets.ts";
import { Supervisor } from "./supervise/supervisor.ts";
import type { FleetGate } from "./fleet/mod.ts";
import type { Discovery, Fetcher } from "./update/types.ts";
import { Updater } from "./update/updater.ts";
import { failpoint, FAILPOINT_ENV, failpointEnabled } from "./update/failpoint.ts";
import {
  leftoverDirs,
  recoverInstall,
  type RecoveryPlan,
  removeLeftovers,
  stopLeftOverService,
} from "./update/recovery.ts";
import { createAdminApp, createMetricsApp } from "./web/app.ts";
import { serveWeb, type WebHandler, type WebServer } from "./web/server.ts";
import { YSCO_VERSION } from "./self/ysco_version.ts";
import { hostGoarch, hostGoos } from "./buildinfo/platform.ts";
import { type ExecState, takeExecState } from "./self/exec_state.ts";
import { addFleetMetrics, createYscoMetrics, type YscoMetrics } from "./metrics/ysco_metrics.ts";

/** What `ysco run` was asked to do. */
export interface RunOptions {
  /** State directory with ysco.toml and state.json. */
  dir: string;
  user: string;
  groups: string;
  addr: string;
  adminAddr: string;
  metricsAddr: string;
  /** The service binary, an explicit path. */
  cmd: string;
  args: string[];
  /** The path ysco was started as (argv[0]). */
  self: string;
  /** ysco's own command line, shown on the admin page and used again by a self-update. */
  argv: string[];
}

/** Environment variables ysco uses for itself and never passes to the service. */
const PRIVATE_ENV = [SELF_ENV, FAILPOINT_ENV];

/** When this process started (ms): temporary files older than that are left by a crash. */
const STARTED = Date.now();

/**
 * Checks the command line of `ysco run` before anything starts.
 * @throws UsageError for a bad combination of flags or a bad CMD path
 */
export function checkRunOptions(o: RunOptions): void {
  if (o.addr !== "" && (o.adminAddr !== "" || o.metricsAddr !== "")) {
    throw new UsageError("cannot use -addr with -adminaddr or -metricsaddr");
  }
  for (
    const [flag, value] of [["addr", o.addr], ["adminaddr", o.adminAddr], [
      "metricsaddr",
      o.metricsAddr,
    ]]
  ) {
    const problem = value === "" ? undefined : hostPortProblem(value ?? "", { emptyHost: true });
    if (problem !== undefined) throw new UsageError(`flag -${flag}: "${value}": ${problem}`);
  }
  if (o.groups !== "" && o.user === "") throw new UsageError("-groups requires -user");
  if (!(isAbsolute(o.cmd) || o.cmd.startsWith("./") || o.cmd.startsWith("../"))) {
    throw new UsageError(
      `command path "${o.cmd}" must be explicit: absolute, or relative starting with ./ or ../`,
    );
  }
}

/**
 * Runs the service until it exits.
 * @returns ysco's exit status: the service's exit code (128 + signal number when a
 * signal killed it), or 1 when ysco could not start
 * @throws Error when CMD is not a Go binary ysco can update (one line, no usage text)
 */
export async function runService(o: RunOptions): Promise<number> {
  checkRunOptions(o);
  const log = createLogger();
  // Before any child starts: sockets systemd passed must not leak into it.
  let passed: PassedSocket[];
  try {
    const taken = takePassedSockets();
    if (taken.note !== undefined) log.warn("ignoring LISTEN_FDS", { reason: taken.note });
    passed = taken.sockets;
  } catch (err) {
    log.error("cannot take the sockets systemd passed", { err: errorMessage(err) });
    return 1;
  }
  const configFile = join(o.dir, "ysco.toml");
  let config: Config;
  let password: string;
  try {
    ({ config, password } = await loadConfig(configFile));
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error("cannot load configuration", { file: configFile, err: err.message });
      return 1;
    }
    throw err;
  }
  log.setLevel(config.log_level);

  let state: State;
  try {
    state = await readState(o.dir);
  } catch (err) {
    if (err instanceof StateError) {
      log.error("cannot read state", { err: err.message });
      return 1;
    }
    throw err;
  }

  let exec: ExecState | undefined;
  try {
    exec = takeExecState();
  } catch (err) {
    log.error("cannot take over from the ysco that replaced itself", { err: errorMessage(err) });
  }
  // A start after a crash: what the killed ysco left (a running service, temporary
  // files, an unfinished update) is dealt with before the service binary is read.
  let recovery: RecoveryPlan | undefined;
  if (exec === undefined) {
    const cmdAbs = isAbsolute(o.cmd) ? o.cmd : resolve(o.cmd);
    await stopLeftOverService(state, config.update.stop_timeout, log);
    await removeLeftovers(leftoverDirs(cmdAbs, o.dir, o.self), STARTED, log);
    recovery = await recoverInstall(state, cmdAbs, log);
  }

  let buildInfo: BuildInfo;
  try {
    buildInfo = await readBuildInfo(o.cmd);
  } catch (err) {
    if (err instanceof BuildInfoError) {
      // Not a command line mistake: one line, without the usage text (exit 1).
      throw new Error(`command must be a Go binary with module information: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }

  const credentials = await prepareCredentials(o, config, log);
  if (credentials === "refused") return 1;
  let listen: ListenSocket[];
  try {
    listen = await prepareListenSockets({
      entries: config.process.listen,
      cmd: o.cmd,
      passed,
      ...(exec ? { exec: exec.listen ?? [] } : {}),
      log,
    });
  } catch (err) {
    log.error("cannot listen for the service", { err: errorMessage(err) });
    return 1;
  }
  await symlinkTips(o.cmd, o.self, log);

  log.info("ysco starting", {
    version: YSCO_VERSION,
    svc: buildInfo.path,
    svcversion: `${buildInfo.main.version}/${buildInfo.goVersion}`,
    goos: buildInfo.goos,
    goarch: buildInfo.goarch,
    adminaddr: o.addr || o.adminAddr || undefined,
    metricsaddr: o.addr || o.metricsAddr || undefined,
  });
  if (state.pauseReason !== "") log.warn("automatic updates paused", { reason: state.pauseReason });

  const metrics = createYscoMetrics();
  metrics.selfVersion.setOnly({ version: YSCO_VERSION });
  let gate: FleetGate | undefined;
  try {
    // Loaded only when configured: most installations have no fleet.
    if (config.fleet.etcd.length > 0 || config.fleet.fleetlock_url !== "") {
      const { openFleetGate } = await import("./fleet/mod.ts");
      gate = await openFleetGate(config.fleet, { logger: log });
    }
  } catch (err) {
    log.error("cannot set up fleet coordination", { err: errorMessage(err) });
    return 1;
  }
  if (gate) {
    const fleet = gate;
    addFleetMetrics(metrics.registry, () => fleet.status());
  }

  const env = Deno.env.toObject();
  for (const key of PRIVATE_ENV) delete env[key];
  const supervisor = new Supervisor({
    cmd: o.cmd,
    args: o.args,
    ...(credentials ? { credentials } : {}),
    capabilities: credentials ? parseCapabilities(config.process.ambient_capabilities) : [],
    env,
    listen,
    log,
  });
  const updater = new Updater({
    dir: o.dir,
    cmd: o.cmd,
    supervisor,
    buildInfo,
    config,
    state,
    log,
    metrics,
    discovery: DISCOVERY,
    fetcher: lazyGobuildFetcher(o.dir, log, metrics),
    ...(gate ? { gate } : {}),
    self: {
      version: YSCO_VERSION,
      path: o.self,
      argv: o.argv,
      platform: `${hostGoos()}-${hostGoarch()}`,
    },
    ...(exec ? { exec } : {}),
    ...(recovery ? { recovery } : {}),
  });

  let servers: WebServer[];
  try {
    servers = await startWebServers(o, {
      updater,
      password,
      metrics,
      log,
      ...(gate ? { gate } : {}),
    });
  } catch (err) {
    log.error("cannot start web server", { err: errorMessage(err) });
    await gate?.close();
    return 1;
  }
  // An error no part of ysco handled must not end ysco (and orphan the service).
  const onUnhandled = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    metrics.internalErrors.inc();
    log.error("internal error: unhandled promise rejection", { err: errorMessage(e.reason) });
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  if (exec !== undefined) {
    await updater.arrived();
    if (failpointEnabled("self-boot")) await failpoint("self-boot", log, signalAbort("SIGUSR2"));
  }
  using _signals = supervisor.forwardSignals((signal) => updater.signalled(signal));
  try {
    return await updater.run();
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
    await Promise.all(servers.map((s) => s.shutdown()));
    await gate?.close();
  }
}

/**
 * Discovery through gopherwatch DNS and the Go module proxy, per `[monitor]`. Its code
 * (a DNS client on Node's dgram) loads at the first check, not at start-up.
 */
const DISCOVERY: Discovery = {
  module: async (modPath, current, config, onMethodError) =>
    await (await import("./discover/mod.ts")).discoverModule(modPath, {
      monitor: config.monitor,
      onMethodError,
      current,
      policy: config.policy.service,
    }),
  toolchains: async (config, onMethodError) =>
    await (await import("./discover/mod.ts")).discoverToolchains({
      monitor: config.monitor,
      onMethodError,
    }),
};

/**
 * Binaries from the gobuild log of `[gobuild]`; its code (Ed25519, streaming SHA-256)
 * loads at the first update.
 */
function lazyGobuildFetcher(dir: string, log: Logger, metrics: YscoMetrics): Fetcher {
  let fetcher: Promise<Fetcher> | undefined;
  return {
    async fetch(spec, dest, modeFrom, config, options) {
      fetcher ??= import("./update/gobuild_fetcher.ts").then((m) =>
        m.createGobuildFetcher(dir, log, metrics)
      );
      return await (await fetcher).fetch(spec, dest, modeFrom, config, options);
    },
  };
}

/**
 * Starts the admin and metrics servers of -addr, -adminaddr and -metricsaddr: one
 * server when the addresses are the same, none without addresses.
 * @throws Error when an address cannot be listened on
 */
async function startWebServers(
  o: RunOptions,
  deps: { updater: Updater; password: string; metrics: YscoMetrics; log: Logger; gate?: FleetGate },
): Promise<WebServer[]> {
  const adminAddr = o.addr || o.adminAddr;
  const metricsAddr = o.addr || o.metricsAddr;
  const servers: WebServer[] = [];
  const serve = async (addr: string, handler: WebHandler, what: string) => {
    const { hostname, port } = splitHostPort(addr);
    servers.push(
      await serveWeb({
        hostname,
        port,
        onListen: (a) => deps.log.info(`${what} listening`, { addr: `${a.hostname}:${a.port}` }),
        onError: (err) => deps.log.error("http handler", { err: errorMessage(err) }),
      }, handler),
    );
  };
  if (adminAddr !== "") {
    const app = createAdminApp({
      actions: deps.updater,
      password: deps.password,
      dir: o.dir,
      argv: o.argv,
      registry: deps.metrics.registry,
      authFailures: deps.metrics.adminAuthFailures,
      serveMetrics: adminAddr === metricsAddr,
      listenPort: splitHostPort(adminAddr).port,
      yscoVersion: YSCO_VERSION,
      log: deps.log,
      ...(deps.gate ? { fleet: deps.gate } : {}),
    });
    await serve(
      adminAddr,
      app.fetch,
      adminAddr === metricsAddr ? "admin and metrics web server" : "admin web server",
    );
  }
  if (metricsAddr !== "" && metricsAddr !== adminAddr) {
    await serve(metricsAddr, createMetricsApp(deps.metrics.registry).fetch, "metrics web server");
  }
  return servers;
}

/** An AbortSignal aborted when the process receives sig (for the crash tests' fail points). */
function signalAbort(sig: Deno.Signal): AbortSignal {
  const abort = new AbortController();
  const handler = () => {
    Deno.removeSignalListener(sig, handler);
    abort.abort(new Error(`received ${sig}`));
  };
  Deno.addSignalListener(sig, handler);
  return abort.signal;
}

function splitHostPort(addr: string): { hostname: string; port: number } {
  const { host, port } = parseHostPort(addr, { emptyHost: true });
  return { hostname: host === "" ? "0.0.0.0" : host, port };
}

/**
 * Resolves -user/-groups and checks that the user can execute the binary; "refused"
 * when it cannot (the reason is logged).
 */
async function prepareCredentials(
  o: RunOptions,
  config: Config,
  log: Logger,
): Promise<Credentials | undefined | "refused"> {
  const caps = config.process.ambient_capabilities;
  if (o.user === "") {
    if (caps.length > 0) {
      log.warn("process.ambient_capabilities only take effect with -user; ignoring them", {
        capabilities: caps.join(","),
      });
    }
    return undefined;
  }
  if (Deno.build.os !== "linux") throw new UsageError("-user is only supported on Linux");
  if (Deno.uid() !== 0) throw new UsageError("-user requires running as root");
  let credentials: Credentials;
  try {
    credentials = await resolveCredentials(o.user, o.groups);
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  for (const access of checkAccess(await pathsToCheck(o.cmd), credentials)) {
    if (!access.executable) {
      log.error("command not executable for the service's user and groups", {
        path: access.path,
        uid: credentials.uid,
        groups: credentials.groups.join(","),
      });
      return "refused";
    }
    if (access.writable) {
      log.warn("the service's user or groups can write this path; it could replace the binary", {
        path: access.path,
      });
    }
  }
  return credentials;
}

/** The original's tips: the service binary and ysco itself are best run as symlinks. */
async function symlinkTips(cmd: string, self: string, log: Logger): Promise<void> {
  for (
    const [path, tip] of [
      [
        cmd,
        "tip: make the service binary a symlink to see the current version and switch versions atomically",
      ],
      [
        self,
        "tip: make ysco a symlink so it can update itself without interrupting the service",
      ],
    ] as const
  ) {
    try {
      if (!(await Deno.lstat(path)).isSymlink) log.warn(tip, { path });
    } catch {
      // Started through PATH or from a moved file: nothing to advise.
    }
  }
}
