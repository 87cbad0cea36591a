/**
 * `ysco run`: the wiring. Loads the configuration and state, checks the service
 * binary and the user it runs as, starts the service under the supervisor, and
 * exits with the service's exit code.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { type BuildInfo, BuildInfoError, readBuildInfo } from "./buildinfo/mod.ts";
import type { Config } from "./config/config.ts";
import { loadConfig } from "./config/load.ts";
import { ConfigError } from "./config/parse.ts";
import { errorMessage, UsageError } from "./errors.ts";
import { createLogger, type Logger } from "./log.ts";
import { SELF_ENV, selfPath } from "./self_path.ts";
import { readState, type State, StateError } from "./state.ts";
import {
  checkAccess,
  type Credentials,
  parseCapabilities,
  pathsToCheck,
  resolveCredentials,
} from "./supervise/credentials.ts";
import { Supervisor } from "./supervise/supervisor.ts";

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
}

/** Environment variables ysco uses for itself and never passes to the service. */
const PRIVATE_ENV = [SELF_ENV];

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
    if (value !== "" && !/^(\[[0-9a-fA-F:.]+\]|[^:\[\]\s]*):[0-9]{1,5}$/.test(value ?? "")) {
      throw new UsageError(`flag -${flag}: "${value}" is not HOST:PORT`);
    }
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
 * @throws UsageError when CMD is not a Go binary with module information
 */
export async function runService(o: RunOptions): Promise<number> {
  checkRunOptions(o);
  const log = createLogger();
  const configFile = join(o.dir, "ysco.toml");
  let config: Config;
  try {
    ({ config } = await loadConfig(configFile));
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error("cannot load configuration", { file: configFile, err: err.message });
      return 1;
    }
    throw err;
  }
  log.setLevel(config.log_level);

  let buildInfo: BuildInfo;
  try {
    buildInfo = await readBuildInfo(o.cmd);
  } catch (err) {
    if (err instanceof BuildInfoError) {
      throw new UsageError(`command must be a Go binary with module information: ${err.message}`);
    }
    throw err;
  }

  const credentials = await prepareCredentials(o, config, log);
  if (credentials === "refused") return 1;
  await symlinkTips(o.cmd, log);

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

  log.info("ysco starting", {
    svc: buildInfo.path,
    svcversion: `${buildInfo.main.version}/${buildInfo.goVersion}`,
    goos: buildInfo.goos,
    goarch: buildInfo.goarch,
    adminaddr: o.addr || o.adminAddr || undefined,
    metricsaddr: o.addr || o.metricsAddr || undefined,
  });
  if (state.pauseReason !== "") log.warn("automatic updates paused", { reason: state.pauseReason });

  const env = Deno.env.toObject();
  for (const key of PRIVATE_ENV) delete env[key];
  const supervisor = new Supervisor({
    cmd: o.cmd,
    args: o.args,
    ...(credentials ? { credentials } : {}),
    capabilities: credentials ? parseCapabilities(config.process.ambient_capabilities) : [],
    env,
    log,
  });
  using _signals = supervisor.forwardSignals();
  const proc = supervisor.start();
  const status = await proc.status;
  if (status.code === 0) {
    log.info("service finished without error, quitting");
  } else {
    log.error("service quit, so will we", {
      exitcode: status.code,
      ...(status.signal ? { signal: status.signal } : {}),
      ...(status.startError ? { err: status.startError } : {}),
    });
  }
  return status.code;
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
async function symlinkTips(cmd: string, log: Logger): Promise<void> {
  for (
    const [path, tip] of [
      [
        cmd,
        "tip: make the service binary a symlink to see the current version and switch versions atomically",
      ],
      [
        selfPath(),
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
