/**
 * The module information text that Go embeds in binaries (the part `go version -m`
 * prints), parsed as Go's debug.ParseBuildInfo does: what it rejects is rejected,
 * with its error texts, the text of the file quoted and cut.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { quoteCut } from "../errors.ts";

/** A module as recorded in build info. */
export interface Module {
  path: string;
  /** "v1.2.3", "(devel)" for a build without version, "" for some replacements. */
  version: string;
  /** "h1:..." checksum, "" when absent. */
  sum: string;
  /** The replacement (a "=>" line), when the module was replaced. */
  replace?: Module;
}

/** One "build" line: key and (unquoted) value. */
export interface BuildSetting {
  key: string;
  value: string;
}

/** The parsed module information text. */
export interface ModInfo {
  /** Import path of the main package, e.g. "example.com/m/cmd/x". */
  path: string;
  /** The main module; path "" when there is none. */
  main: Module;
  deps: Module[];
  settings: BuildSetting[];
}

/**
 * Parses module information text (the lines between the sentinels).
 * @throws SyntaxError naming the line number
 */
export function parseModInfo(text: string): ModInfo {
  const info: ModInfo = {
    path: "",
    main: { path: "", version: "", sum: "" },
    deps: [],
    settings: [],
  };
  let last: Module | undefined;
  let lineNum = 1;
  let rest = text;
  const fail = (reason: string): never => {
    throw new SyntaxError(`Cannot parse Go build info: line ${lineNum}: ${reason}`);
  };
  const moduleLine = (cols: string[]): Module => {
    if (cols.length !== 2 && cols.length !== 3) {
      fail(`expected 2 or 3 columns; got ${cols.length}`);
    }
    return { path: cols[0] ?? "", version: cols[1] ?? "", sum: cols[2] ?? "" };
  };
  while (rest.length > 0) {
    const nl = rest.indexOf("\n");
    if (nl === -1) break; // an unterminated last line is ignored, as Go does
    const line = rest.slice(0, nl);
    rest = rest.slice(nl + 1);
    if (line.startsWith("path\t")) {
      info.path = line.slice(5);
    } else if (line.startsWith("mod\t")) {
      info.main = moduleLine(line.slice(4).split("\t"));
      last = info.main;
    } else if (line.startsWith("dep\t")) {
      last = moduleLine(line.slice(4).split("\t"));
      info.deps.push(last);
    } else if (line.startsWith("=>\t")) {
      const cols = line.slice(3).split("\t");
      if (cols.length !== 3) fail(`expected 3 columns for replacement; got ${cols.length}`);
      if (last === undefined) fail("replacement with no module on previous line");
      else last.replace = { path: cols[0] ?? "", version: cols[1] ?? "", sum: cols[2] ?? "" };
      last = undefined;
    } else if (line.startsWith("build\t")) {
      const setting = parseBuildLine(line.slice(6));
      if (typeof setting === "string") fail(setting);
      else info.settings.push(setting);
    }
    lineNum++;
  }
  return info;
}

/** A build line's key and value, or Go's error text. */
function parseBuildLine(kv: string): BuildSetting | string {
  if (kv.length < 1) return "build line missing '='";
  let key: string;
  let raw: string;
  if (kv[0] === "=") return "build line with missing key";
  if (kv[0] === '"' || kv[0] === "`") {
    const q = unquotePrefix(kv);
    if (q === undefined) return "invalid quoted key in build line";
    if (q.length === kv.length) return "build line missing '=' after quoted key";
    if (kv[q.length] !== "=") {
      return `unexpected character after quoted key: ${quoteRune(kv[q.length] ?? "")}`;
    }
    key = q.value;
    raw = kv.slice(q.length + 1);
  } else {
    const eq = kv.indexOf("=");
    if (eq === -1) return "build line missing '=' after key";
    key = kv.slice(0, eq);
    raw = kv.slice(eq + 1);
    if (/[= \t\r\n"`]/.test(key)) return `unquoted key ${quoteCut(key)} must be quoted`;
  }
  if (raw[0] === '"' || raw[0] === "`") {
    const q = unquotePrefix(raw);
    if (q === undefined || q.length !== raw.length) return "invalid quoted value in build line";
    return { key, value: q.value };
  }
  if (/[ \t\r\n"`]/.test(raw)) return `unquoted value ${quoteCut(raw)} must be quoted`;
  return { key, value: raw };
}

/** A character quoted as Go's %q quotes a byte: 'x'. */
function quoteRune(c: string): string {
  if (c === '"') return "'\"'";
  if (c === "'") return "'\\''";
  return `'${quoteCut(c).slice(1, -1)}'`;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  "\\": 92,
  '"': 34,
};

/**
 * Unquotes the Go string literal at the start of s ("..." with Go escapes, or a
 * `raw` string). Returns the value and the literal's length, undefined when invalid.
 */
export function unquotePrefix(s: string): { value: string; length: number } | undefined {
  const quote = s[0];
  if (quote === "`") {
    const end = s.indexOf("`", 1);
    if (end === -1) return undefined;
    return { value: s.slice(1, end).replaceAll("\r", ""), length: end + 1 };
  }
  if (quote !== '"') return undefined;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  let i = 1;
  while (i < s.length) {
    const c = s[i] ?? "";
    if (c === '"') {
      return { value: new TextDecoder().decode(new Uint8Array(bytes)), length: i + 1 };
    }
    if (c === "\n") return undefined;
    if (c !== "\\") {
      const cp = s.codePointAt(i) ?? 0;
      const ch = String.fromCodePoint(cp);
      bytes.push(...enc.encode(ch));
      i += ch.length;
      continue;
    }
    const e = s[i + 1] ?? "";
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      bytes.push(simple);
      i += 2;
    } else if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = s.slice(i + 2, i + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) return undefined;
      const v = parseInt(hex, 16);
      if (e === "x") bytes.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return undefined;
      else bytes.push(...enc.encode(String.fromCodePoint(v)));
      i += 2 + n;
    } else if (/^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      const v = parseInt(s.slice(i + 1, i + 4), 8);
      if (v > 255) return undefined;
      bytes.push(v);
      i += 4;
    } else {
      return undefined;
    }
  }
  return undefined;
}
