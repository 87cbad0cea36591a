/**
 * Parses and validates `ysco.toml` text against the schema. Every problem is
 * reported with its key path and line ("line 12: update.delay: ..."), unknown keys
 * with the closest known key; all problems are collected, not just the first.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { parse as parseToml } from "smol-toml";
import { parseDuration } from "../duration.ts";
import { type Config, CONFIG_SCHEMA } from "./config.ts";
import { listenEntriesProblem } from "../supervise/listen_address.ts";
import type { Field, Fields } from "./schema.ts";

/** One problem in a configuration file. */
export interface ConfigIssue {
  /** Dotted key path, e.g. "update.delay" or "links[1].url"; "" for the whole file. */
  path: string;
  /** 1-based line, when known. */
  line?: number;
  message: string;
}

/** A configuration that does not parse or validate; message lists every issue. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  /**
   * @param source the file name used in the message, e.g. "ys/ysco.toml"
   * @param issues the problems found
   */
  constructor(source: string, issues: ConfigIssue[]) {
    super(issues.map((i) => formatIssue(source, i)).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** "ys/ysco.toml:12: update.delay: must be at least 5s". */
export function formatIssue(source: string, issue: ConfigIssue): string {
  const where = issue.line === undefined ? source : `${source}:${issue.line}`;
  return issue.path === ""
    ? `${where}: ${issue.message}`
    : `${where}: ${issue.path}: ${issue.message}`;
}

/** Options for parseConfig. */
export interface ParseOptions {
  /**
   * For tools that only read settings (check, plan, fetch, fleet): required keys may
   * be absent (`auth_file` matters only to `ysco run`). @default false
   */
  partial?: boolean;
}

/**
 * Parses configuration text; absent keys get their defaults.
 * @param source the file name for messages
 * @throws ConfigError listing every problem
 */
export function parseConfig(
  text: string,
  source = "ysco.toml",
  options: ParseOptions = {},
): Config {
  let raw: Record<string, unknown>;
  try {
    raw = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const e = err as { line?: number; message?: string };
    const first = String(e.message ?? err).split("\n")[0] ?? "";
    const issue: ConfigIssue = { path: "", message: `invalid TOML: ${first}` };
    if (typeof e.line === "number") issue.line = e.line;
    throw new ConfigError(source, [issue]);
  }
  const lines = keyLines(text);
  const issues: ConfigIssue[] = [];
  const report = (path: string, message: string) => {
    const issue: ConfigIssue = { path, message };
    const line = lines.get(path) ?? lines.get(path.replace(/\[\d+\]$/, "")) ??
      lines.get(path.replace(/\.[^.\[]+$/, ""));
    if (line !== undefined) issue.line = line;
    issues.push(issue);
  };
  const config = readTable(CONFIG_SCHEMA, raw, "", report, options.partial ?? false) as Config;
  if (issues.length === 0) {
    for (const check of CROSS_CHECKS) {
      const problem = check(config);
      if (problem !== undefined) report(problem.path, problem.message);
    }
  }
  if (issues.length > 0) {
    throw new ConfigError(
      source,
      issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
    );
  }
  return config;
}

type Report = (path: string, message: string) => void;

/** Checks between keys, run when every key is valid by itself. */
const CROSS_CHECKS: Array<(c: Config) => { path: string; message: string } | undefined> = [
  (c) => {
    const problem = listenEntriesProblem(c.process.listen);
    return problem &&
      { path: "process.listen", message: `item ${problem.index + 1}: ${problem.message}` };
  },
  (c) =>
    c.self.feed_url !== "" && c.self.verifier_key === ""
      ? { path: "self.verifier_key", message: "required when self.feed_url is set" }
      : undefined,
  (c) =>
    c.fleet.etcd.length > 0 && c.fleet.fleetlock_url !== ""
      ? {
        path: "fleet.fleetlock_url",
        message: "cannot be used with fleet.etcd: coordinate through etcd or a FleetLock " +
          "server, not both",
      }
      : undefined,
  (c) =>
    c.fleet.username !== "" && c.fleet.password_file === ""
      ? { path: "fleet.password_file", message: "required when fleet.username is set" }
      : undefined,
  (c) =>
    c.fleet.password_file !== "" && c.fleet.username === ""
      ? { path: "fleet.username", message: "required when fleet.password_file is set" }
      : undefined,
  (c) =>
    (c.fleet.cert_file === "") !== (c.fleet.key_file === "")
      ? {
        path: c.fleet.cert_file === "" ? "fleet.cert_file" : "fleet.key_file",
        message: "fleet.cert_file and fleet.key_file go together",
      }
      : undefined,
];

/** Reads a table; `partial` lets its required keys be absent (the top level only). */
function readTable(
  fields: Fields,
  raw: Record<string, unknown>,
  prefix: string,
  report: Report,
  partial: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(fields, key)) {
      const hint = suggest(key, Object.keys(fields), prefix);
      report(join(prefix, key), `unknown key${hint ? `; did you mean "${hint}"?` : ""}`);
    }
  }
  for (const [key, field] of Object.entries(fields)) {
    const path = join(prefix, key);
    const value = raw[key];
    if (value === undefined) {
      if ("required" in field && field.required && !partial) {
        report(path, "required key is missing");
      }
      out[key] = defaultOf(field);
    } else {
      out[key] = readField(field, value, path, report);
    }
  }
  return out;
}

function readField(field: Field, value: unknown, path: string, report: Report): unknown {
  switch (field.kind) {
    case "table":
      if (!isTable(value)) return wrongType(path, "a table", value, report, defaultOf(field));
      return readTable(field.fields, value, path, report, false);
    case "tables":
      if (!Array.isArray(value) || !value.every(isTable)) {
        return wrongType(path, "an array of tables ([[...]])", value, report, []);
      }
      return value.map((item, i) => readTable(field.fields, item, `${path}[${i}]`, report, false));
    case "string": {
      if (typeof value !== "string") {
        return wrongType(path, "a string", value, report, field.default);
      }
      if (field.values && !field.values.includes(value)) {
        report(
          path,
          `must be one of ${field.values.map((v) => `"${v}"`).join(", ")}, not "${value}"`,
        );
        return field.default;
      }
      const problem = field.check?.(value);
      if (problem) report(path, problem);
      return value;
    }
    case "strings": {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
        return wrongType(path, "an array of strings", value, report, field.default);
      }
      if (field.emptyAllowed === false && value.length === 0) report(path, "must not be empty");
      const seen = new Set<string>();
      for (const [i, v] of value.entries()) {
        if (field.values && !field.values.includes(v)) {
          report(
            path,
            `item ${i + 1}: must be one of ${
              field.values.map((x) => `"${x}"`).join(", ")
            }, not "${v}"`,
          );
        } else if (field.values && seen.has(v)) {
          report(path, `item ${i + 1}: "${v}" is listed twice`);
        }
        seen.add(v);
        const problem = field.check?.(v);
        if (problem) report(path, `item ${i + 1} "${v}": ${problem}`);
      }
      return value;
    }
    case "duration": {
      if (typeof value !== "string") {
        return wrongType(path, 'a duration string like "1h30m"', value, report, field.default);
      }
      let ms: number;
      try {
        ms = parseDuration(value);
      } catch (err) {
        report(path, (err as Error).message);
        return field.default;
      }
      if (ms < 0) report(path, `must not be negative, not "${value}"`);
      else if (ms === 0 && !field.zeroAllowed) report(path, "must be more than 0s");
      else if (ms !== 0 && field.min !== undefined && ms < field.min) {
        report(
          path,
          `must be at least ${minText(field.min)}${
            field.zeroAllowed ? ' (or "0s")' : ""
          }, not "${value}"`,
        );
      }
      return ms;
    }
    case "bool":
      if (typeof value !== "boolean") {
        return wrongType(path, "true or false", value, report, field.default);
      }
      return value;
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value)) {
        return wrongType(path, "an integer", value, report, field.default);
      }
      if (value < field.min || value > field.max) {
        report(path, `must be from ${field.min} to ${field.max}, not ${value}`);
      }
      return value;
  }
}

function wrongType(
  path: string,
  want: string,
  value: unknown,
  report: Report,
  fallback: unknown,
): unknown {
  report(path, `must be ${want}, not ${describeValue(value)}`);
  return fallback;
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return `the string "${value}"`;
  if (typeof value === "number" || typeof value === "bigint") return `the number ${value}`;
  if (typeof value === "boolean") return `${value}`;
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  return "a table";
}

function minText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The default value of a field (a fresh copy for tables and lists). */
export function defaultOf(field: Field): unknown {
  switch (field.kind) {
    case "table":
      return Object.fromEntries(Object.entries(field.fields).map(([k, f]) => [k, defaultOf(f)]));
    case "tables":
      return [];
    case "strings":
      return [...field.default];
    default:
      return field.default;
  }
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

function join(prefix: string, key: string): string {
  return prefix === "" ? key : `${prefix}.${key}`;
}

/**
 * The closest known key: a sibling one edit away (a typo), else the same name in
 * another table (a key in the wrong place), else a sibling a few edits away.
 */
function suggest(key: string, siblings: string[], prefix: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const s of siblings) {
    const d = editDistance(key.toLowerCase(), s);
    if (d < bestDistance) {
      best = join(prefix, s);
      bestDistance = d;
    }
  }
  if (bestDistance <= 1) return best;
  for (const path of allPaths(CONFIG_SCHEMA, "")) {
    if (path.split(".").pop() === key) return path;
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function allPaths(fields: Fields, prefix: string): string[] {
  return Object.entries(fields).flatMap(([k, f]) =>
    f.kind === "table" || f.kind === "tables"
      ? allPaths(f.fields, join(prefix, k))
      : [join(prefix, k)]
  );
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min(
        (row[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

/**
 * Maps key paths to the line that defines them, by scanning table headers and
 * `key = value` lines ("monitor.delay" -> 7, "links[1].url" -> 20, "monitor" -> 5).
 */
export function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let table = "";
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    const header = /^\[\[\s*([^\]]+?)\s*\]\]/.exec(line) ?? /^\[\s*([^\]]+?)\s*\]/.exec(line);
    if (header) {
      const name = unquoteKey(header[1] ?? "");
      if (line.startsWith("[[")) {
        const n = arrayCounts.get(name) ?? 0;
        arrayCounts.set(name, n + 1);
        table = `${name}[${n}]`;
        if (!lines.has(name)) lines.set(name, i + 1);
      } else {
        table = name;
      }
      if (!lines.has(table)) lines.set(table, i + 1);
      continue;
    }
    const kv =
      /^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=/
        .exec(line);
    if (kv) {
      const path = join(table, unquoteKey(kv[1] ?? ""));
      if (!lines.has(path)) lines.set(path, i + 1);
    }
  }
  return lines;
}

function unquoteKey(key: string): string {
  return key.split(/\s*\.\s*/).map((p) => p.replace(/^["']|["']$/g, "")).join(".");
}
