/**
 * Discovery of new module versions and Go toolchains: the methods of
 * `monitor.methods` ("dns": gopherwatch TXT records; "goproxy": the Go module
 * proxy's lists) are tried in order, each with its own timeout, and the first
 * that answers wins. Beyond the original, a newer major version (`<module>/v<N+1>`)
 * is reported as information, and with policy "patch" on an older minor line the
 * proxy's full list is consulted, because gopherwatch only names the newest version
 * of each major.
 *
 * Only canonical versions ("v1.2.0", not the shorthand "v1.2") are candidates: a
 * shorthand from a record or a list names no version that can be fetched, so it is
 * left out and reported (MethodReport.ignored).
 *
 * Deciding what to install is not done here: the updater passes what this finds to
 * the policy.
 *
 * @module
 */

import type { Config, MonitorMethod, VersionPolicy } from "../config/config.ts";
import { errorMessage, quoteCut } from "../errors.ts";
import {
  compareSemver,
  isCanonicalVersion,
  isIncompatible,
  isPrerelease,
  isPseudoVersion,
  parseSemver,
  semverMajor,
  semverMajorMinor,
  sortSemverDescending,
} from "../version/semver.ts";
import type { Toolchains } from "../version/toolchains.ts";
import { DnsError, queryTxt } from "./dns_client.ts";
import {
  gopherwatchModuleName,
  gopherwatchToolchainName,
  joinTxtRecords,
  parseModuleRecord,
  parseToolchainRecord,
} from "./gopherwatch.ts";
import {
  fetchLatest,
  fetchToolchainList,
  fetchVersionList,
  GoProxyError,
  proxyUrl,
  TOOLCHAIN_MODULE,
} from "./goproxy.ts";
import { checkModulePath, nextMajorPath, splitPathMajor } from "./module_path.ts";
import { systemResolvers } from "./resolv_conf.ts";

export type { Toolchains } from "../version/toolchains.ts";
export { checkModulePath } from "./module_path.ts";

/** Each method's time limit, as in the original. */
export const METHOD_TIMEOUT_MS = 30_000;

/** How many higher majors are probed one after another (v2, v3, ...). */
const MAX_MAJOR_PROBES = 3;

/** One module version found. */
export interface FoundVersion {
  /** The version, e.g. "v1.2.3". */
  version: string;
  /** When gopherwatch discovered it (DNS), or the proxy's time for `@latest`. */
  time?: Date;
  /** It has a prerelease part ("v1.2.0-rc.1"; pseudo-versions too): never an update by default. */
  prerelease: boolean;
  /** It is a pseudo-version ("v0.0.0-20240102030405-abcdef123456"). */
  pseudo: boolean;
  /** It carries "+incompatible" (a v2+ release of a module without a /vN path). */
  incompatible: boolean;
}

/** Why a method was asked. */
export type LookupPurpose = "versions" | "toolchains" | "new major" | "older minor line";

/** What one method answered, or why it failed. */
export interface MethodReport {
  method: MonitorMethod;
  purpose: LookupPurpose;
  /** The module looked up; TOOLCHAIN_MODULE for toolchains. */
  module: string;
  /** What was asked: the DNS name or the proxy URL. */
  query: string;
  /** Whether the method answered (a "not found" from a probe counts as an answer). */
  ok: boolean;
  /** The versions answered, newest first. */
  versions?: FoundVersion[];
  /** The toolchains answered. */
  toolchains?: Toolchains;
  /** Versions answered that are not canonical ("v1.2"), left out. */
  ignored?: string[];
  /** Why it failed. */
  error?: string;
  /**
   * The failure was an answer that the module does not exist (DNS NXDOMAIN or no
   * record, proxy 404 or 410), not a broken source.
   */
  notFound?: boolean;
  /** DNS only: the resolver that answered. */
  resolver?: string;
  /** DNS only: the resolver's AD bit (it validated the answer with DNSSEC). */
  authenticated?: boolean;
}

/** The seams and settings for discovery. */
export interface DiscoverOptions {
  /** The `[monitor]` table of the configuration. */
  monitor: Config["monitor"];
  /** Called for every failed method (the caller logs and counts ysco_monitor_errors_total). */
  onMethodError?: (method: MonitorMethod, error: unknown) => void;
  /** Ask every method, not only until one answers (for `ysco check`). @default false */
  allMethods?: boolean;
  /** Each method's time limit. @default METHOD_TIMEOUT_MS */
  methodTimeoutMs?: number;
  /** Aborts everything. */
  signal?: AbortSignal;
  /** The fetch for proxy requests. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** DNS client settings (tests use short timeouts). */
  dns?: { timeoutMs?: number; attempts?: number; udpSize?: number };
}

/** Options for discoverModule. */
export interface DiscoverModuleOptions extends DiscoverOptions {
  /** The running version: enables the older-minor-line check and ranks new majors. */
  current?: string;
  /** The version policy for this module ("patch" enables the older-minor-line check). */
  policy?: VersionPolicy;
  /** Look for a newer major version. @default true */
  newMajor?: boolean;
}

/** A newer major version of a module. */
export interface NewMajor {
  /** The module path it lives at: the same path (v0 to v1, +incompatible) or `<prefix>/vN`. */
  module: string;
  /** Its newest release. */
  version: FoundVersion;
}

/** The result of discoverModule. */
export interface ModuleDiscovery {
  module: string;
  /** The method whose answer is used. */
  method: MonitorMethod;
  /**
   * Versions newest first: the answering method's, plus the proxy's list of the
   * running minor line when that was consulted.
   */
  versions: FoundVersion[];
  /** The newest release of a higher major than the running one (or than the path's), if any. */
  newMajor?: NewMajor;
  /** Every request made, in order. */
  reports: MethodReport[];
}

/** The result of discoverToolchains. */
export interface ToolchainDiscovery {
  /** The method whose answer is used. */
  method: MonitorMethod;
  toolchains: Toolchains;
  /** Discovery times by kind (DNS only). */
  times: Partial<Record<keyof Toolchains, Date>>;
  reports: MethodReport[];
}

/** Every method failed; reports tells why, per method. */
export class DiscoveryError extends Error {
  /** What each method answered or why it failed. */
  readonly reports: MethodReport[];

  /**
   * @param what what was looked up, e.g. `module "example.com/x"`
   * @param reports the failed attempts
   */
  constructor(what: string, reports: MethodReport[], options?: ErrorOptions) {
    super(
      `Cannot look up ${what}: ${
        reports.map((r) => `${r.method}: ${r.error ?? "no answer"}`).join("; ") ||
        "no methods configured"
      }`,
      options,
    );
    this.name = "DiscoveryError";
    this.reports = reports;
  }
}

/** Flags a version. */
export function foundVersion(version: string, time?: Date): FoundVersion {
  return {
    version,
    ...(time ? { time } : {}),
    prerelease: isPrerelease(version),
    pseudo: isPseudoVersion(version),
    incompatible: isIncompatible(version),
  };
}

/** Thrown by a method when the module is not known to it. */
class NotFound extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotFound";
  }
}

interface MethodAnswer<T> {
  value: T;
  query: string;
  /** Non-canonical versions left out. */
  ignored?: string[];
  resolver?: string;
  authenticated?: boolean;
}

/**
 * Looks up the versions of a module.
 * @throws TypeError for an invalid module path (before any request)
 * @throws DiscoveryError when no method answered
 */
export async function discoverModule(
  modulePath: string,
  options: DiscoverModuleOptions,
): Promise<ModuleDiscovery> {
  const problem = checkModulePath(modulePath);
  if (problem !== undefined) throw new TypeError(`Cannot look up module: ${problem}`);
  const reports: MethodReport[] = [];
  const lookup = (m: MonitorMethod, path: string, signal: AbortSignal) =>
    m === "dns" ? dnsVersions(path, options, signal) : proxyVersions(path, options, signal);

  let answer: { method: MonitorMethod; versions: FoundVersion[] } | undefined;
  for (const method of options.monitor.methods) {
    if (answer !== undefined && !options.allMethods) break;
    const report = await runMethod(
      method,
      "versions",
      modulePath,
      options,
      (signal) => lookup(method, modulePath, signal),
    );
    reports.push({ ...report.report, ...(report.value ? { versions: report.value } : {}) });
    if (report.value !== undefined && answer === undefined) {
      answer = { method, versions: report.value };
    }
  }
  if (answer === undefined) throw new DiscoveryError(`module "${modulePath}"`, reports);

  let versions = answer.versions;
  if (needsOlderLine(answer, options)) {
    const report = await runMethod(
      "goproxy",
      "older minor line",
      modulePath,
      options,
      (signal) => proxyVersions(modulePath, options, signal),
    );
    reports.push({ ...report.report, ...(report.value ? { versions: report.value } : {}) });
    if (report.value !== undefined) versions = mergeVersions(versions, report.value);
  }

  const result: ModuleDiscovery = { module: modulePath, method: answer.method, versions, reports };
  if (options.newMajor ?? true) {
    const newMajor = await findNewMajor(modulePath, answer.method, versions, options, reports);
    if (newMajor !== undefined) result.newMajor = newMajor;
  }
  return result;
}

/**
 * Looks up the current, previous and next Go toolchains.
 * @throws DiscoveryError when no method answered
 */
export async function discoverToolchains(options: DiscoverOptions): Promise<ToolchainDiscovery> {
  const reports: MethodReport[] = [];
  let answer: Omit<ToolchainDiscovery, "reports"> | undefined;
  for (const method of options.monitor.methods) {
    if (answer !== undefined && !options.allMethods) break;
    const report = await runMethod(
      method,
      "toolchains",
      TOOLCHAIN_MODULE,
      options,
      (signal) =>
        method === "dns" ? dnsToolchains(options, signal) : proxyToolchains(options, signal),
    );
    reports.push({
      ...report.report,
      ...(report.value ? { toolchains: report.value.toolchains } : {}),
    });
    if (report.value !== undefined && answer === undefined) answer = { method, ...report.value };
  }
  if (answer === undefined) throw new DiscoveryError("Go toolchains", reports);
  return { ...answer, reports };
}

/** Runs one method with its own timeout; failures are reported, counted, not thrown. */
async function runMethod<T>(
  method: MonitorMethod,
  purpose: LookupPurpose,
  module: string,
  options: DiscoverOptions,
  fn: (signal: AbortSignal) => Promise<MethodAnswer<T>>,
): Promise<{ report: MethodReport; value?: T }> {
  const timeoutMs = options.methodTimeoutMs ?? METHOD_TIMEOUT_MS;
  const controller = new AbortController();
  const timeoutError = new Error(`no answer within ${timeoutMs / 1000}s`);
  const timer = setTimeout(() => controller.abort(timeoutError), timeoutMs);
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort);
  const base = { method, purpose, module, query: queryOf(method, purpose, module, options) };
  try {
    options.signal?.throwIfAborted();
    const a = await fn(controller.signal);
    return {
      report: {
        ...base,
        query: a.query,
        ok: true,
        ...(a.resolver !== undefined ? { resolver: a.resolver } : {}),
        ...(a.authenticated !== undefined ? { authenticated: a.authenticated } : {}),
        ...(a.ignored?.length ? { ignored: a.ignored } : {}),
      },
      value: a.value,
    };
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    const error = controller.signal.aborted && controller.signal.reason === timeoutError
      ? new Error(`Cannot look up ${base.query}: ${timeoutError.message}`, { cause: err })
      : err;
    options.onMethodError?.(method, error);
    const notFound = err instanceof NotFound || (err instanceof GoProxyError && err.notFound);
    return {
      report: { ...base, ok: false, error: errorMessage(error), ...(notFound ? { notFound } : {}) },
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** The query a method makes, for reports of failures before it was made. */
function queryOf(
  method: MonitorMethod,
  purpose: LookupPurpose,
  module: string,
  options: DiscoverOptions,
): string {
  try {
    if (method === "dns") {
      return purpose === "toolchains"
        ? gopherwatchToolchainName(options.monitor.dns)
        : gopherwatchModuleName(module, options.monitor.dns);
    }
    const base = purpose === "toolchains"
      ? options.monitor.goproxy_toolchain || options.monitor.goproxy
      : options.monitor.goproxy;
    return proxyUrl(base, module, "@v/list");
  } catch {
    return module;
  }
}

async function txtLookup(name: string, options: DiscoverOptions, signal: AbortSignal) {
  const resolvers = await systemResolvers(options.monitor.resolver);
  try {
    const answer = await queryTxt(name, { resolvers, signal, ...options.dns });
    if (answer.records.length === 0) {
      throw new NotFound(`Cannot find "${name}" at ${answer.resolver}: no TXT record (NODATA)`);
    }
    return answer;
  } catch (err) {
    if (err instanceof DnsError && err.kind === "nxdomain") throw new NotFound(err.message);
    throw err;
  }
}

async function dnsVersions(
  modulePath: string,
  options: DiscoverOptions,
  signal: AbortSignal,
): Promise<MethodAnswer<FoundVersion[]>> {
  const name = gopherwatchModuleName(modulePath, options.monitor.dns);
  const answer = await txtLookup(name, options, signal);
  const all = parseModuleRecord(joinTxtRecords(answer.records));
  if (all.length === 0) {
    throw new NotFound(`Cannot find "${name}" at ${answer.resolver}: no versions in the record`);
  }
  const { kept, ignored } = canonicalOnly(all);
  if (kept.length === 0) {
    throw new Error(
      `Cannot use "${name}" from ${answer.resolver}: no canonical version in the record, only ${
        ignored.map((v) => quoteCut(v)).join(", ")
      }`,
    );
  }
  return {
    value: sortFound(kept.map((v) => foundVersion(v.version, v.time))),
    query: name,
    resolver: answer.resolver,
    authenticated: answer.authenticated,
    ignored,
  };
}

async function proxyVersions(
  modulePath: string,
  options: DiscoverOptions,
  signal: AbortSignal,
): Promise<MethodAnswer<FoundVersion[]>> {
  const proxyOptions = { signal, ...(options.fetch ? { fetch: options.fetch } : {}) };
  const base = options.monitor.goproxy;
  const { kept, ignored } = canonicalOnly(
    (await fetchVersionList(base, modulePath, proxyOptions)).map((version) => ({ version })),
  );
  if (kept.length > 0) {
    return {
      value: kept.map((v) => foundVersion(v.version)),
      query: proxyUrl(base, modulePath, "@v/list"),
      ignored,
    };
  }
  // No tags: @latest names the newest pseudo-version, marked as such.
  let latest;
  try {
    latest = await fetchLatest(base, modulePath, proxyOptions);
  } catch (err) {
    if (err instanceof GoProxyError && err.notFound) {
      return { value: [], query: proxyUrl(base, modulePath, "@v/list"), ignored };
    }
    throw err;
  }
  const query = proxyUrl(base, modulePath, "@latest");
  if (!isCanonicalVersion(latest.version)) {
    throw new Error(
      `Cannot use "${query}": version ${quoteCut(latest.version)} is not canonical`,
    );
  }
  return { value: [foundVersion(latest.version, latest.time)], query, ignored };
}

/** Splits versions into the canonical ones and the others (their text). */
function canonicalOnly<T extends { version: string }>(
  versions: readonly T[],
): { kept: T[]; ignored: string[] } {
  const kept = versions.filter((v) => isCanonicalVersion(v.version));
  const ignored = versions.filter((v) => !isCanonicalVersion(v.version)).map((v) => v.version);
  return { kept, ignored };
}

async function dnsToolchains(
  options: DiscoverOptions,
  signal: AbortSignal,
): Promise<MethodAnswer<Omit<ToolchainDiscovery, "reports" | "method">>> {
  const name = gopherwatchToolchainName(options.monitor.dns);
  const answer = await txtLookup(name, options, signal);
  return {
    value: parseToolchainRecord(joinTxtRecords(answer.records)),
    query: name,
    resolver: answer.resolver,
    authenticated: answer.authenticated,
  };
}

async function proxyToolchains(
  options: DiscoverOptions,
  signal: AbortSignal,
): Promise<MethodAnswer<Omit<ToolchainDiscovery, "reports" | "method">>> {
  const base = options.monitor.goproxy_toolchain || options.monitor.goproxy;
  const list = await fetchToolchainList(base, {
    signal,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const query = proxyUrl(base, TOOLCHAIN_MODULE, "@v/list");
  if (list.toolchains.cur === "" && list.toolchains.next === "") {
    throw new Error(`Cannot find Go toolchains in "${query}": no Go release listed`);
  }
  return { value: { toolchains: list.toolchains, times: {} }, query };
}

/**
 * Whether the proxy's full list is needed: policy "patch" on a line that the DNS
 * answer does not show (it names only the newest version of each major).
 */
function needsOlderLine(
  answer: { method: MonitorMethod; versions: FoundVersion[] },
  options: DiscoverModuleOptions,
): boolean {
  const current = options.current;
  if (options.policy !== "patch" || current === undefined || parseSemver(current) === undefined) {
    return false;
  }
  if (answer.method !== "dns" || !options.monitor.methods.includes("goproxy")) return false;
  const line = semverMajorMinor(current);
  return !answer.versions.some((v) => semverMajorMinor(v.version) === line);
}

/** Versions of both lists, newest first; a, the answering method's, wins for details. */
function mergeVersions(a: FoundVersion[], b: FoundVersion[]): FoundVersion[] {
  const byVersion = new Map<string, FoundVersion>();
  for (const v of [...a, ...b]) if (!byVersion.has(v.version)) byVersion.set(v.version, v);
  return sortFound([...byVersion.values()]);
}

function sortFound(versions: FoundVersion[]): FoundVersion[] {
  const byVersion = new Map(versions.map((v) => [v.version, v]));
  return sortSemverDescending([...byVersion.keys()]).flatMap((v) => byVersion.get(v) ?? []);
}

function majorNumber(version: string): number {
  return Number(semverMajor(version).slice(1));
}

/**
 * The newest release of a higher major: first in the same path (v0 to v1,
 * "+incompatible" releases), then at `<prefix>/v<N+1>` and beyond, probed first with
 * the method that answered for the module, then the others (all of them with allMethods).
 */
async function findNewMajor(
  modulePath: string,
  method: MonitorMethod,
  versions: FoundVersion[],
  options: DiscoverModuleOptions,
  reports: MethodReport[],
): Promise<NewMajor | undefined> {
  const split = splitPathMajor(modulePath);
  if (split === undefined) return undefined;
  const pathMajor = split.pathMajor === ""
    ? 1
    : Number(split.pathMajor.replace(/-unstable$/, "").slice(2));
  const current = options.current !== undefined && parseSemver(options.current) !== undefined
    ? majorNumber(options.current)
    : pathMajor;
  const releases = versions.filter((v) => !v.prerelease);
  let best: NewMajor | undefined;
  const sameBest = releases.find((v) => majorNumber(v.version) > current);
  if (sameBest !== undefined) best = { module: modulePath, version: sameBest };

  const highestSeen = Math.max(current, pathMajor, ...releases.map((v) => majorNumber(v.version)));
  let path = nextMajorPath(modulePath, highestSeen + 1);
  for (let i = 0; i < MAX_MAJOR_PROBES && path !== undefined; i++) {
    const found = await probeMajor(path, method, options, reports);
    if (found === undefined) break;
    best = { module: path, version: found };
    path = nextMajorPath(path);
  }
  return best;
}

/**
 * The newest release at path by the first method that answers ("not found" is an
 * answer), or the newest of all methods' answers with allMethods; undefined when none.
 */
async function probeMajor(
  path: string,
  first: MonitorMethod,
  options: DiscoverModuleOptions,
  reports: MethodReport[],
): Promise<FoundVersion | undefined> {
  // The method that knew the module first: gopherwatch does not know private modules.
  const methods = [first, ...options.monitor.methods.filter((m) => m !== first)];
  let best: FoundVersion | undefined;
  for (const method of methods) {
    const report = await runMethod(method, "new major", path, options, async (signal) => {
      try {
        return method === "dns"
          ? await dnsVersions(path, options, signal)
          : await proxyVersions(path, options, signal);
      } catch (err) {
        const notFound = err instanceof NotFound ||
          (err instanceof GoProxyError && err.notFound);
        if (!notFound) throw err;
        return { value: [], query: queryOf(method, "new major", path, options) };
      }
    });
    reports.push({ ...report.report, ...(report.value ? { versions: report.value } : {}) });
    if (report.value === undefined) continue;
    const newest = report.value.find((v) => !v.prerelease);
    if (
      newest !== undefined &&
      (best === undefined || compareSemver(newest.version, best.version) > 0)
    ) {
      best = newest;
    }
    if (!options.allMethods) break;
  }
  return best;
}
