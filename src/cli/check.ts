/**
 * `ysco check [-json] [-dir DIR] TARGET`: looks up new versions of a module and
 * the current Go toolchains the way `ysco run` does, asking every discovery method
 * and showing what each answered or why it failed.
 *
 * @module
 */

import { type BuildInfo, BuildInfoError, readBuildInfo } from "../buildinfo/mod.ts";
import type { Config } from "../config/config.ts";
import { readConfigOrDefaults } from "../config/load.ts";
import { ConfigError } from "../config/parse.ts";
import {
  checkModulePath,
  discoverModule,
  discoverToolchains,
  DiscoveryError,
  type FoundVersion,
  type MethodReport,
  type ModuleDiscovery,
  type ToolchainDiscovery,
} from "../discover/mod.ts";
import { errorMessage, UsageError } from "../errors.ts";
import type { Command } from "./command.ts";
import { formatFlags, parseFlags } from "./flags.ts";

const FLAGS = {
  json: { type: "boolean", help: "print one JSON object" },
  dir: {
    type: "string",
    help: "directory with ysco.toml (its [monitor] settings are used when it exists)",
    value: "DIR",
    default: "ys",
  },
} as const;

/** How many versions the text output lists. */
const TEXT_VERSIONS = 10;

/** The check command. */
export const checkCommand: Command = {
  name: "check",
  usage: `usage: ysco check [-json] [-dir DIR] TARGET

Looks up the versions of a Go module and the current Go toolchains as "ysco run"
does, with the [monitor] settings of DIR/ysco.toml (the defaults when that file
does not exist). TARGET is a Go binary (its module and version are read from its
build information) or a module path. Every discovery method is asked; for each,
the output shows what it answered or why it failed, then the versions found, a
newer major version if there is one, and the toolchains (current, previous, next).
Nothing is installed. Exits 0 when at least one method answered the module lookup
and one the toolchain lookup, 1 otherwise.

flags:
${formatFlags(FLAGS)}`,
  async run(args, io) {
    const { flags, rest } = parseFlags(args, FLAGS, { stopAtOperand: false });
    if (rest.length === 0) throw new UsageError("missing TARGET");
    if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
    const target = rest[0] ?? "";

    let config: Pick<Config, "monitor" | "policy">;
    try {
      config = await readConfigOrDefaults(flags.dir);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.err(err.message + "\n");
      return 1;
    }
    const subject = await readTarget(target);
    if ("error" in subject) {
      io.err(`ysco check: ${subject.error}\n`);
      return 1;
    }
    const current = subject.binary?.main.version;
    const usable = current !== undefined && current !== "" && current !== "(devel)";
    const options = { monitor: config.monitor, allMethods: true };
    const [mod, tc] = await Promise.all([
      settle(discoverModule(subject.module, {
        ...options,
        ...(usable ? { current } : {}),
        policy: config.policy.service,
      })),
      settle(discoverToolchains(options)),
    ]);
    const result: CheckResult = {
      module: subject.module,
      ...(subject.binary ? { binary: { file: target, ...binaryOf(subject.binary) } } : {}),
      module_lookup: mod,
      toolchain_lookup: tc,
    };
    io.out(flags.json ? JSON.stringify(jsonOf(result), null, 2) + "\n" : formatText(result));
    return "value" in mod && "value" in tc ? 0 : 1;
  },
};

type Settled<T> = { value: T } | { error: string; reports: MethodReport[] };

interface CheckResult {
  module: string;
  binary?: { file: string; version: string; goVersion: string };
  module_lookup: Settled<ModuleDiscovery>;
  toolchain_lookup: Settled<ToolchainDiscovery>;
}

async function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  try {
    return { value: await p };
  } catch (err) {
    if (err instanceof DiscoveryError) return { error: err.message, reports: err.reports };
    if (err instanceof TypeError) return { error: err.message, reports: [] };
    throw err;
  }
}

async function readTarget(
  target: string,
): Promise<{ module: string; binary?: BuildInfo } | { error: string }> {
  let isFile = false;
  try {
    isFile = (await Deno.stat(target)).isFile;
  } catch {
    // not a file: a module path
  }
  if (isFile) {
    try {
      const binary = await readBuildInfo(target);
      return { module: binary.main.path, binary };
    } catch (err) {
      if (err instanceof BuildInfoError) return { error: errorMessage(err) };
      throw err;
    }
  }
  const problem = checkModulePath(target);
  if (problem !== undefined) {
    return { error: `"${target}" is neither a file nor a module path: ${problem}` };
  }
  return { module: target };
}

function binaryOf(bi: BuildInfo): { version: string; goVersion: string } {
  return { version: bi.main.version, goVersion: bi.goVersion };
}

function reportsOf(s: Settled<{ reports: MethodReport[] }>): MethodReport[] {
  return "value" in s ? s.value.reports : s.reports;
}

function jsonOf(r: CheckResult): Record<string, unknown> {
  const mod = r.module_lookup;
  const tc = r.toolchain_lookup;
  return {
    module: r.module,
    ...(r.binary ? { binary: r.binary } : {}),
    method: "value" in mod ? mod.value.method : null,
    versions: "value" in mod ? mod.value.versions : [],
    newMajor: "value" in mod ? mod.value.newMajor ?? null : null,
    moduleError: "error" in mod ? mod.error : null,
    toolchains: "value" in tc
      ? { method: tc.value.method, ...tc.value.toolchains, times: tc.value.times }
      : null,
    toolchainError: "error" in tc ? tc.error : null,
    reports: [...reportsOf(mod), ...reportsOf(tc)],
  };
}

function formatText(r: CheckResult): string {
  const rows: Array<[string, string]> = [["module", r.module]];
  if (r.binary) {
    rows.push([
      "binary",
      `${r.binary.file}: ${r.binary.version || "(unknown)"}, ${r.binary.goVersion}`,
    ]);
  }
  const mod = r.module_lookup;
  if ("value" in mod) {
    const vs = mod.value.versions;
    rows.push(["versions", `${formatVersions(vs)} (from ${mod.value.method})`]);
    const nm = mod.value.newMajor;
    rows.push(["new major", nm ? `${nm.module} ${formatVersion(nm.version)}` : "none found"]);
  } else {
    rows.push(["versions", `error: ${mod.error}`]);
  }
  const tc = r.toolchain_lookup;
  if ("value" in tc) {
    const t = tc.value.toolchains;
    rows.push([
      "toolchains",
      `cur ${t.cur || "-"}, prev ${t.prev || "-"}, next ${t.next || "-"} (from ${tc.value.method})`,
    ]);
  } else {
    rows.push(["toolchains", `error: ${tc.error}`]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  lines.push("", "methods:");
  for (const rep of [...reportsOf(mod), ...reportsOf(tc)]) {
    lines.push(`  ${rep.method.padEnd(7)}  ${rep.purpose.padEnd(16)}  ${rep.query}`);
    lines.push(`  ${"".padEnd(7)}  ${"".padEnd(16)}  ${answerOf(rep)}`);
  }
  return lines.join("\n") + "\n";
}

function answerOf(rep: MethodReport): string {
  if (!rep.ok) return `error: ${rep.error ?? "unknown"}`;
  const via = rep.resolver === undefined
    ? ""
    : ` (resolver ${rep.resolver}${rep.authenticated ? ", DNSSEC-validated" : ""})`;
  if (rep.toolchains) {
    const t = rep.toolchains;
    return `cur ${t.cur || "-"}, prev ${t.prev || "-"}, next ${t.next || "-"}${via}`;
  }
  const vs = rep.versions ?? [];
  return vs.length === 0 ? `not found${via}` : `${formatVersions(vs)}${via}`;
}

function formatVersions(vs: FoundVersion[]): string {
  if (vs.length === 0) return "none";
  const shown = vs.slice(0, TEXT_VERSIONS).map(formatVersion).join(", ");
  return vs.length > TEXT_VERSIONS ? `${shown}, and ${vs.length - TEXT_VERSIONS} more` : shown;
}

function formatVersion(v: FoundVersion): string {
  const notes = [
    ...(v.pseudo ? ["pseudo-version"] : v.prerelease ? ["prerelease"] : []),
    ...(v.time ? [`discovered ${v.time.toISOString().slice(0, 10)}`] : []),
  ];
  return notes.length > 0 ? `${v.version} (${notes.join(", ")})` : v.version;
}
