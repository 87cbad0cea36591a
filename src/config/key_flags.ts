/**
 * Which keys carry a flag of the schema, and which of them differ between two
 * configurations: the host-only keys the admin page must not change
 * (docs/security.md), and the keys read only when `ysco run` starts, whose edits
 * apply at the next start.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { type Config, CONFIG_SCHEMA } from "./config.ts";
import type { Fields } from "./schema.ts";

/** A flag of the schema's fields. */
export type KeyFlag = "hostOnly" | "atStart";

/**
 * The dotted paths of the keys with the flag (set on the key or on its table), in
 * the schema's order: "auth_file", "update.before", "process.ambient_capabilities".
 */
export function keysWith(flag: KeyFlag): string[] {
  return walk(CONFIG_SCHEMA, "", flag, false);
}

function walk(fields: Fields, prefix: string, flag: KeyFlag, inherited: boolean): string[] {
  return Object.entries(fields).flatMap(([key, field]) => {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    if (field.kind === "table") return walk(field.fields, path, flag, field[flag] === true);
    // Lists of tables ([[links]]) carry no flags.
    if (field.kind === "tables") return [];
    return inherited || field[flag] === true ? [path] : [];
  });
}

/** The value of a dotted key path ("update.before") in a configuration. */
export function valueAt(config: Config, path: string): unknown {
  let value: unknown = config;
  for (const part of path.split(".")) {
    value = typeof value === "object" && value !== null
      ? (value as Record<string, unknown>)[part]
      : undefined;
  }
  return value;
}

/** Of the paths, those whose values differ between before and after. */
export function changedKeys(before: Config, after: Config, paths: readonly string[]): string[] {
  return paths.filter((path) =>
    JSON.stringify(valueAt(before, path)) !== JSON.stringify(valueAt(after, path))
  );
}
