/**
 * The annotated configuration that `ysco config` and `ysco configdefaults` print
 * (and the admin page shows): every key with its documentation as comments, as
 * valid TOML, and the short form `ysco init` writes (only what differs).
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { formatDuration } from "../duration.ts";
import { type Config, CONFIG_SCHEMA } from "./config.ts";
import { defaultOf } from "./parse.ts";
import type { Field, Fields } from "./schema.ts";

const WIDTH = 80;

/**
 * Both print every key at its built-in default (a required key at its example), a
 * file that is safe to use as it is; "annotated" (`ysco config`) adds each key's
 * example as a comment, "defaults" (`ysco configdefaults`) does not.
 */
export type DescribeMode = "annotated" | "defaults";

/** The annotated configuration: every key with its documentation, at its default. */
export function describeConfig(mode: DescribeMode): string {
  const out: string[] = [
    ...comment(
      "ysco configuration (ys/ysco.toml) with every key at its default: safe to use as it " +
        "is. Absent keys take the same defaults, so keep only what you change. " +
        (mode === "annotated" ? 'Lines "# Example: ..." show what a key takes. ' : "") +
        "`ysco testconfig FILE` checks a file.",
    ),
  ];
  writeFields(out, CONFIG_SCHEMA, "", mode);
  return out.join("\n") + "\n";
}

function writeFields(out: string[], fields: Fields, table: string, mode: DescribeMode): void {
  // TOML needs a table's plain keys before its sub-tables.
  const entries = Object.entries(fields);
  const plain = entries.filter(([, f]) => f.kind !== "table" && f.kind !== "tables");
  const nested = entries.filter(([, f]) => f.kind === "table" || f.kind === "tables");
  for (const [key, field] of plain) {
    if (field.kind === "table" || field.kind === "tables") continue;
    out.push("", ...comment(field.doc));
    // A required key has no useful default: it gets its example.
    const value = field.required ? field.example ?? field.default : field.default;
    const example = field.example;
    if (mode === "annotated" && example !== undefined && !sameValue(example, value)) {
      out.push(`# Example: ${key} = ${tomlValue(field, example)}`);
    }
    out.push(`${key} = ${tomlValue(field, value)}`);
  }
  for (const [key, field] of nested) {
    const name = table === "" ? key : `${table}.${key}`;
    out.push("", ...comment(field.doc));
    if (field.kind === "table") {
      out.push(`[${name}]`);
      writeFields(out, field.fields, name, mode);
    } else if (field.kind === "tables") {
      // None by default: one example, commented out.
      for (const item of field.example) {
        out.push(`# [[${name}]]`);
        for (const [k, f] of Object.entries(field.fields)) {
          if (item[k] !== undefined) out.push(`# ${k} = ${tomlValue(f, item[k])}`);
        }
      }
    }
  }
}

/**
 * A configuration file with only the keys whose values differ from the defaults
 * (and the required ones), each with its documentation, under a header comment
 * pointing at `ysco config`: what `ysco init` writes. Parsing the text with
 * parseConfig gives config back.
 * @param header comment lines' text for the top of the file
 */
export function formatConfigChanges(config: Config, header: string): string {
  const out: string[] = [...comment(header)];
  writeChanges(out, CONFIG_SCHEMA, config as unknown as Record<string, unknown>, "");
  return out.join("\n") + "\n";
}

function writeChanges(
  out: string[],
  fields: Fields,
  values: Record<string, unknown>,
  table: string,
): void {
  const entries = Object.entries(fields);
  for (const [key, field] of entries) {
    if (field.kind === "table" || field.kind === "tables") continue;
    const value = values[key];
    if (!field.required && sameValue(value, defaultOf(field))) continue;
    out.push("", ...comment(field.doc), `${key} = ${tomlValue(field, value)}`);
  }
  for (const [key, field] of entries) {
    const name = table === "" ? key : `${table}.${key}`;
    const value = values[key];
    if (field.kind === "table") {
      const sub = isRecord(value) ? value : {};
      const lines: string[] = [];
      writeChanges(lines, field.fields, sub, name);
      if (lines.length > 0) out.push("", ...comment(field.doc), `[${name}]`, ...lines);
    } else if (field.kind === "tables" && Array.isArray(value) && value.length > 0) {
      out.push("", ...comment(field.doc));
      for (const item of value) {
        out.push(`[[${name}]]`);
        const fieldsOf = isRecord(item) ? item : {};
        for (const [k, f] of Object.entries(field.fields)) {
          const v = fieldsOf[k];
          if (v === undefined || (!("required" in f && f.required) && sameValue(v, defaultOf(f)))) {
            continue;
          }
          out.push(`${k} = ${tomlValue(f, v)}`);
        }
      }
    }
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }
  return a === b;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as TOML. */
export function tomlValue(field: Field, value: unknown): string {
  switch (field.kind) {
    case "duration":
      return tomlString(formatDuration(value as number));
    case "strings":
      return `[${(value as string[]).map(tomlString).join(", ")}]`;
    case "string":
      return tomlString(String(value));
    default:
      return String(value);
  }
}

/**
 * A TOML basic string: quotes, backslashes and control characters escaped (TOML,
 * unlike JSON, forbids a raw DEL); characters outside the BMP stay as they are.
 */
export function tomlString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += "\\u" + code.toString(16).padStart(4, "0");
    else if (code >= 0xd800 && code <= 0xdfff) out += "\ufffd"; // a lone surrogate is not text
    else out += ch;
  }
  return out + '"';
}

function comment(text: string): string[] {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > WIDTH && line !== "#") {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}
