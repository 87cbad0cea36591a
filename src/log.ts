/**
 * Structured logging as `key=value` lines on stderr, in the format of Go's slog text
 * handler that the original uses: `level=INFO msg="ysco starting" ysco="" key=value`.
 * Every line carries the marker `ysco=""`, which tells ysco's lines from the
 * service's (they share the stream). No timestamps: journald adds them.
 *
 * The only module besides main.ts that writes to the terminal.
 *
 * @module
 */

import type { LogLevel } from "./config/config.ts";

/** Fields of a log line; Errors are logged by message, Dates as ISO text. */
export type LogFields = Record<string, unknown>;

/** A leveled logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds fields to every line. */
  with(fields: LogFields): Logger;
  /** Changes the level of this logger and every logger made from it with with(). */
  setLevel(level: LogLevel): void;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Options for createLogger. */
export interface LoggerOptions {
  /** @default "info" */
  level?: LogLevel;
  /** Where lines go. @default standard error */
  write?: (line: string) => void;
}

/** Creates a logger writing slog-style text lines. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const shared = {
    level: options.level ?? "info" as LogLevel,
    write: options.write ?? writeStderr,
  };
  const make = (base: LogFields): Logger => {
    const log = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
      if (RANK[level] < RANK[shared.level]) return;
      shared.write(formatLine(level, msg, { ysco: "", ...base, ...fields }));
    };
    return {
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
      with: (fields) => make({ ...base, ...fields }),
      setLevel: (level) => {
        shared.level = level;
      },
    };
  };
  return make({});
}

/** One line: `level=INFO msg="..." key=value ...` with slog's quoting rules. */
export function formatLine(level: LogLevel, msg: string, fields: LogFields): string {
  const parts = [`level=${level.toUpperCase()}`, `msg=${quote(msg)}`];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    parts.push(`${key}=${quote(text(value))}`);
  }
  return parts.join(" ") + "\n";
}

function text(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Quotes a value as slog does: when empty or containing spaces, quotes, "=" or control characters. */
function quote(s: string): string {
  return s === "" || /[\s"=\\]/.test(s) || hasControl(s) ? JSON.stringify(s) : s;
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  let bytes = encoder.encode(line);
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
}
