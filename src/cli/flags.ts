/**
 * Command-line flags in both Go's style (`-name value`, `-name=value`, as the
 * original ysco and existing systemd units use them) and GNU style (`--name value`,
 * `--name=value`). Boolean flags take no separate value (`-json`, `--json=false`).
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** One flag's definition. */
export interface FlagDef {
  type: "string" | "boolean";
  /** One line of help. */
  help: string;
  /** Placeholder for the value in usage, e.g. "DIR". @default "VALUE" */
  value?: string;
  /** Default for a string flag. @default "" */
  default?: string;
}

/** Flag definitions by name (without dashes). */
export type FlagSpec = Record<string, FlagDef>;

/** Parsed values: strings for string flags, booleans for boolean flags. */
export type FlagValues<S extends FlagSpec> = {
  [K in keyof S]: S[K]["type"] extends "boolean" ? boolean : string;
};

/** Options for parseFlags. */
export interface ParseFlagsOptions {
  /**
   * Stop at the first argument that is not a flag, as Go's flag package does (for
   * `ysco run`, where everything after CMD belongs to the service). When false,
   * flags may follow operands.
   * @default true
   */
  stopAtOperand?: boolean;
}

/** Thrown when -h, -help or --help is given: the caller prints the usage and succeeds. */
export class HelpRequested extends Error {
  constructor() {
    super("help requested");
    this.name = "HelpRequested";
  }
}

/** The result of parseFlags: values, the names given explicitly, and the operands. */
export interface ParsedFlags<S extends FlagSpec> {
  flags: FlagValues<S>;
  /** Names of the flags that appeared on the command line. */
  given: Set<keyof S & string>;
  /** Arguments that are not flags, in order. */
  rest: string[];
}

/**
 * Parses args against spec.
 * @throws UsageError for unknown flags or missing values
 * @throws HelpRequested for -h, -help and --help
 */
export function parseFlags<S extends FlagSpec>(
  args: readonly string[],
  spec: S,
  options: ParseFlagsOptions = {},
): ParsedFlags<S> {
  const stopAtOperand = options.stopAtOperand ?? true;
  const values: Record<string, string | boolean> = {};
  for (const [name, def] of Object.entries(spec)) {
    values[name] = def.type === "boolean" ? false : def.default ?? "";
  }
  const given = new Set<keyof S & string>();
  const rest: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (stopAtOperand) break;
      rest.push(arg);
      continue;
    }
    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf("=");
    const name = eq === -1 ? body : body.slice(0, eq);
    if (name === "h" || name === "help") throw new HelpRequested();
    const def = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (def === undefined || name === "") throw new UsageError(`unknown flag "${arg}"`);
    if (def.type === "boolean") {
      const v = eq === -1 ? "true" : body.slice(eq + 1);
      if (v !== "true" && v !== "false") {
        throw new UsageError(`flag "-${name}" takes true or false, not "${v}"`);
      }
      values[name] = v === "true";
    } else if (eq !== -1) {
      values[name] = body.slice(eq + 1);
    } else {
      const v = args[i + 1];
      if (v === undefined) throw new UsageError(`flag "-${name}" needs a value`);
      values[name] = v;
      i++;
    }
    given.add(name as keyof S & string);
  }
  rest.push(...args.slice(i));
  return { flags: values as FlagValues<S>, given, rest };
}

/** Formats the flags of spec for a usage text, one per line, Go style ("  -dir DIR  ..."). */
export function formatFlags(spec: FlagSpec): string {
  const rows = Object.entries(spec).map(([name, def]) => {
    const left = def.type === "boolean" ? `-${name}` : `-${name} ${def.value ?? "VALUE"}`;
    const dflt = def.type === "string" && def.default ? ` (default "${def.default}")` : "";
    return [left, def.help + dflt] as const;
  });
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`).join("\n");
}
