/**
 * What the parts of the update cycle share: the service as ysco knows it, the seams
 * to the outside (discovery, binaries), update requests and results, and the
 * snapshot the admin interface reads. Types and small pure helpers only, so that
 * the scheduler, the transaction, the service lifetime and self-updates import this
 * module and never each other.
 *
 * @module
 */

import type { BuildInfo } from "../buildinfo/mod.ts";
import type { Config } from "../config/config.ts";
import type { ModuleDiscovery, ToolchainDiscovery } from "../discover/mod.ts";
import type { FleetGate } from "../fleet/gate.ts";
import type {
  HistoryEntry,
  Outcome,
  Release,
  ScheduledUpdate,
  State,
  Which,
} from "../state/state.ts";
import type { BuildSpec } from "../verify/buildspec.ts";

/** The service as the updater knows it. */
export interface ServiceInfo {
  modPath: string;
  /** Package directory in the module: "/" or "/cmd/x". */
  pkgDir: string;
  /** Import path of the main package. */
  path: string;
  version: string;
  goVersion: string;
  /** Platform of the service's binary (from its build info): what gobuild must build. */
  goos: string;
  goarch: string;
}

/** Finds versions and toolchains (src/discover in production). */
export interface Discovery {
  module(
    modPath: string,
    current: string,
    config: Config,
    onMethodError: (method: string, err: unknown) => void,
  ): Promise<ModuleDiscovery>;
  toolchains(
    config: Config,
    onMethodError: (method: string, err: unknown) => void,
  ): Promise<ToolchainDiscovery>;
}

/** Options of one fetch. */
export interface FetchOptions {
  /** Aborts the lookup and the download at once (ysco is stopping). */
  signal?: AbortSignal;
}

/** A verified binary in a temporary file next to its destination. */
export interface Fetched {
  /** The temporary file; the caller renames it into place or removes it. */
  path: string;
  size: number;
  /** SHA-256 of the binary, hex. */
  sha256: string;
}

/** Gets verified binaries (the gobuild transparency log in production). */
export interface Fetcher {
  /**
   * Looks up spec in the log, downloads and verifies the binary into a temporary
   * file in dest's directory with modeFrom's permissions. On failure or abort, no
   * temporary file is left.
   */
  fetch(
    spec: BuildSpec,
    dest: string,
    modeFrom: string,
    config: Config,
    options?: FetchOptions,
  ): Promise<Fetched>;
}

/** ysco itself, as self-updates need it. */
export interface SelfInfo {
  /** ysco's version. */
  version: string;
  /** The path ysco was started as (the `ysco` symlink in a deployment). */
  path: string;
  /** ysco's whole command line, used again when it replaces itself. */
  argv: string[];
  /** Its platform as release feeds name it: "linux-amd64". */
  platform: string;
}

/** Where the answer to an update request goes when ysco replaces itself meanwhile. */
export interface Handoff {
  /** The client's address, to find the connection's descriptor. */
  remote: { hostname: string; port: number };
  /** The server's port (local side of the connection). */
  localPort: number;
  /** A form (redirect to the page) or the API (plain text). */
  redirect: boolean;
}

/** Thrown when an update is requested while another is in progress. */
export class UpdateBusyError extends Error {
  constructor() {
    super("update in progress");
    this.name = "UpdateBusyError";
  }
}

/** Thrown for an update request that cannot be taken: nothing was changed or recorded. */
export class UpdateRefusedError extends Error {
  /** @param message why, e.g. "v1.2.3 with go1.23.4 runs already" */
  constructor(message: string) {
    super(message);
    this.name = "UpdateRefusedError";
  }
}

/** An update request. */
export interface UpdateRequest extends Release {
  which: Which;
  /** Requested by an operator (admin page, API) rather than the schedule. */
  manual: boolean;
  /** For a self-update asked over HTTP: the connection the new process answers on. */
  handoff?: Handoff;
}

/** How an update ended. */
export interface UpdateResult {
  outcome: Outcome;
  from: Release;
  to: Release;
  reason?: string;
  /**
   * Set when the outcome could not be recorded in the state file: the operation
   * failed even if the service runs the new release (HTTP 500 for a manual update).
   */
  stateError?: string;
}

/** The last check's findings, for the status page (no lookups on page loads). */
export interface CheckReport {
  time: string;
  toolchains?: ToolchainDiscovery;
  toolchainsError?: string;
  svc?: ModuleDiscovery;
  svcError?: string;
  /** ysco's releases for this platform from its feed, newest first. */
  selfVersions?: string[];
  selfError?: string;
  /** The policy's decision for the service against the running release. */
  svcDecision?: string;
}

/** The update in progress. */
export interface BusyInfo extends UpdateRequest {
  from: Release;
  since: string;
  /**
   * What it does now: "waiting for a fleet slot", "downloading", "restarting",
   * "checking health", "soaking", "rolling back", "recovering".
   */
  phase: string;
}

/** A snapshot for the admin page, /json and metrics. */
export interface StatusView {
  svc: ServiceInfo;
  pid: number | undefined;
  startedAt: string | undefined;
  busy: BusyInfo | undefined;
  state: State;
  lastCheck: CheckReport | undefined;
  nextUpdate: { update: ScheduledUpdate; at: string } | undefined;
  nextCheck: string | undefined;
  config: Config;
  fleet: ReturnType<FleetGate["status"]> | undefined;
  self: SelfInfo;
}

/** The service fields the updater needs, from build info. */
export function serviceInfo(bi: BuildInfo): ServiceInfo {
  const modPath = bi.main.path;
  const pkgDir = bi.path === modPath
    ? "/"
    : bi.path.startsWith(modPath + "/")
    ? bi.path.slice(modPath.length)
    : "/";
  return {
    modPath,
    pkgDir,
    path: bi.path,
    version: bi.main.version,
    goVersion: bi.goVersion,
    goos: bi.goos,
    goarch: bi.goarch,
  };
}

/** The history entry of an ended update. */
export function historyEntry(
  result: UpdateResult,
  request: Pick<UpdateRequest, "which" | "manual">,
  now: number,
): HistoryEntry {
  return {
    time: new Date(now).toISOString(),
    which: request.which,
    from: result.from,
    to: result.to,
    outcome: result.outcome,
    ...(result.reason ? { reason: result.reason } : {}),
    manual: request.manual,
  };
}

/** "v1.2.3/go1.23.4", for logs. */
export function releaseText(r: Release): string {
  return r.goVersion === "" ? r.version : `${r.version}/${r.goVersion}`;
}
