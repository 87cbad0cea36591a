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
import { CONFIG_SCHEMA } from "./config.ts";
import { defaultOf } from "./parse.ts";
import type { Field, Fields } from "./schema.ts";

const WIDTH = 80;

/** Which values the annotated output shows. */
export type DescribeMode = "example" | "defaults";

/**
 * The annotated configuration: "example" shows example values for every key (what a
 * typical file sets), "defaults" the built-in defaults.
 */
export function describeConfig(mode: DescribeMode): string {
  const out: string[] = [
    ...comment(
      mode === "example"
        ? "Example ysco configuration (ys/ysco.toml) with every key. Absent keys take their " +
          "defaults; `ysco configdefaults` prints them, `ysco testconfig FILE` checks a file."
        : "ysco configuration with every key at its default. Absent keys take these values; " +
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
    out.push("", ...comment(field.doc));
    out.push(`${key} = ${tomlValue(field, valueFor(field, mode))}`);
  }
  for (const [key, field] of nested) {
    const name = table === "" ? key : `${table}.${key}`;
    out.push("", ...comment(field.doc));
    if (field.kind === "table") {
      out.push(`[${name}]`);
      writeFields(out, field.fields, name, mode);
    } else if (field.kind === "tables") {
      const items = mode === "example" ? field.example : [];
      if (items.length === 0) {
        // No items by default: show one as a commented-out example.
        for (const item of field.example) {
          out.push(`# [[${name}]]`);
          for (const [k, f] of Object.entries(field.fields)) {
            if (item[k] !== undefined) out.push(`# ${k} = ${tomlValue(f, item[k])}`);
          }
        }
      }
      for (const item of items) {
        out.push(`[[${name}]]`);
        for (const [k, f] of Object.entries(field.fields)) {
          out.push(...comment(f.doc), `${k} = ${tomlValue(f, item[k] ?? defaultOf(f))}`);
        }
      }
    }
  }
}

function valueFor(field: Field, mode: DescribeMode): unknown {
  if (field.kind === "table" || field.kind === "tables") return undefined;
  // A required key has no useful default: show its example in both modes.
  if (mode === "example" || field.required) return field.example ?? field.default;
  return field.default;
}

/** A value as TOML. */
export function tomlValue(field: Field, value: unknown): string {
  switch (field.kind) {
    case "duration":
      return JSON.stringify(formatDuration(value as number));
    case "strings":
      return `[${(value as string[]).map((v) => JSON.stringify(v)).join(", ")}]`;
    case "string":
      return JSON.stringify(value);
    default:
      return String(value);
  }
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
